"""Use cases of access: issuing, authenticating and revoking credentials."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from ledger import audit, errors
from ledger.access import (
    TOKEN_PREFIX,
    Credential,
    CredentialKind,
    Principal,
    Scope,
    new_secret,
    secret_hash,
)
from ledger.model import new_id
from ledger.ports import UnitOfWorkFactory
from ledger.service import Clock, require_text, utc_now

LAST_USED_RESOLUTION: Final = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often, so that reads do not all turn into writes."""

MEMBER_SCOPES: Final = frozenset({Scope.READ, Scope.WRITE})


RolesOf = Callable[[uuid.UUID, uuid.UUID], Awaitable[frozenset[str]]]
"""The governance roles a member of a community holds now (``ledger.governance.roles``)."""


class Access:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock = utc_now, roles_of: RolesOf | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._roles_of = roles_of

    async def issue_api_key(
        self,
        community_id: uuid.UUID,
        name: str,
        scopes: frozenset[Scope],
        expires_at: datetime | None = None,
    ) -> tuple[Credential, str]:
        """A new API key and its secret, which is returned here once and never again."""
        if not scopes:
            raise errors.InvalidInput("an API key needs at least one scope")
        return await self._issue(
            community_id,
            kind=CredentialKind.API_KEY,
            name=name,
            scopes=scopes,
            member_id=None,
            expires_at=expires_at,
        )

    async def issue_member_token(
        self,
        community_id: uuid.UUID,
        member_id: uuid.UUID,
        name: str,
        expires_at: datetime | None = None,
    ) -> tuple[Credential, str]:
        """A token that acts as one member, on that member's own resources only."""
        return await self._issue(
            community_id,
            kind=CredentialKind.MEMBER,
            name=name,
            scopes=MEMBER_SCOPES,
            member_id=member_id,
            expires_at=expires_at,
        )

    async def authenticate(self, secret: str) -> Principal | None:
        """The principal a presented secret stands for, or None when it is unknown, revoked or
        expired."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        digest = secret_hash(secret)
        async with self._uow(write=False) as uow:
            credential = await uow.repo.credential_by_secret_hash(digest)
        now = self._clock()
        if credential is None or not credential.active(now):
            return None
        last = credential.last_used_at
        if last is None or now - last >= LAST_USED_RESOLUTION:
            async with self._uow(write=True) as uow:
                await uow.repo.mark_credential(
                    credential.community_id, credential.id, last_used_at=now
                )
                await uow.commit()
        roles: frozenset[str] = frozenset()
        if credential.member_id is not None and self._roles_of is not None:
            roles = await self._roles_of(credential.community_id, credential.member_id)
        return Principal.of(credential, roles)

    async def revoke(self, community_id: uuid.UUID, credential_id: uuid.UUID) -> Credential:
        now = self._clock()
        async with self._uow(write=True) as uow:
            credential = await uow.repo.get_credential(community_id, credential_id)
            if credential is None:
                raise errors.CredentialNotFound(f"credential {credential_id} does not exist")
            if credential.revoked_at is not None:
                return credential
            await uow.repo.mark_credential(community_id, credential_id, revoked_at=now)
            await uow.repo.append_audit(
                community_id, audit.event("revoke_credential", None, credential, now)
            )
            await uow.commit()
        return replace(credential, revoked_at=now)

    async def _issue(
        self,
        community_id: uuid.UUID,
        *,
        kind: CredentialKind,
        name: str,
        scopes: frozenset[Scope],
        member_id: uuid.UUID | None,
        expires_at: datetime | None,
    ) -> tuple[Credential, str]:
        require_text("name", name)
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise errors.InvalidInput("expires_at must lie in the future")
        credential = Credential(
            community_id=community_id,
            id=new_id(),
            kind=kind,
            name=name,
            scopes=scopes,
            member_id=member_id,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
            last_used_at=None,
        )
        secret = new_secret()
        async with self._uow(write=True) as uow:
            if await uow.repo.get_community(community_id) is None:
                raise errors.CommunityNotFound(f"community {community_id} does not exist")
            if member_id is not None and await uow.repo.get_member(community_id, member_id) is None:
                raise errors.MemberNotFound(f"member {member_id} does not exist")
            await uow.repo.insert_credential(credential, secret_hash(secret))
            # The trail names the credential, never its secret.
            event = audit.event(f"issue_{kind}", None, credential, now)
            await uow.repo.append_audit(community_id, event)
            await uow.commit()
        return credential, secret
