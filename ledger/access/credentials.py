"""Use cases of access: issuing, authenticating and revoking credentials.

Authentication runs on every request, so a credential found by its secret's hash is kept in
memory for :data:`CREDENTIAL_CACHE_TTL` and most requests cost no database round trip for it.
The bound this puts on revocation: a revocation through this process (``Access.revoke``, the
member page's sign-out) takes effect at once; one made elsewhere (``commons-ledger revoke-key``,
another server process) within ``CREDENTIAL_CACHE_TTL``. Expiry is checked on every request
against the cached ``expires_at``, so it is exact. Unknown secrets are never cached (a new
credential works at once; guessing fills no memory). A member's governance roles (steward,
treasurer) are read with the credential and kept with it, so a term that begins or ends takes
effect within the same bound (at once for a change made through this process, which calls
``forget_member``); every governance write checks the term again in its own transaction, so the
bound never lets a governance write outlive a term.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from ledger.access.principals import (
    OPERATOR_ISSUER,
    TOKEN_PREFIX,
    Credential,
    CredentialKind,
    Principal,
    Scope,
    new_secret,
    secret_hash,
)
from ledger.audit import chain as audit
from ledger.books.ports import UnitOfWorkFactory
from ledger.kernel import errors
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.inputs import require_text
from ledger.kernel.model import new_id

LAST_USED_RESOLUTION: Final = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often, so that reads do not all turn into writes."""

MEMBER_SCOPES: Final = frozenset({Scope.READ, Scope.WRITE})

SESSION_NAME: Final = "web session"

CREDENTIAL_CACHE_TTL: Final = timedelta(seconds=5)
"""How long a credential read from the database is trusted without reading it again: the most
a revocation made by another process waits before it takes effect here."""
CREDENTIAL_CACHE_ENTRIES: Final = 10_000
"""At most this many credentials are kept; past it the longest-kept one is dropped."""


class RoleHolderToken(errors.LedgerError):
    """A token of a current steward or treasurer asked of anyone but the operator or that
    member: whoever could mint it could consent and approve in their name."""

    code = "role_holder_token"


RolesOf = Callable[[uuid.UUID, uuid.UUID], Awaitable[frozenset[str]]]
"""The governance roles a member of a community holds now (``ledger.governance.roles``)."""


@dataclass(slots=True)
class _Cached:
    credential: Credential
    roles: frozenset[str]
    read_at: datetime


class Access:
    """``cache_ttl`` bounds how long a credential is used from memory (zero: never)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock = utc_now,
        *,
        cache_ttl: timedelta = CREDENTIAL_CACHE_TTL,
        roles_of: RolesOf | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._roles_of = roles_of
        self._cache_ttl = cache_ttl
        self._cache: dict[str, _Cached] = {}
        self._revocations = 0
        """Counts revocations made here, so that a read that overlapped one is not cached."""

    async def issue_api_key(
        self,
        community_id: uuid.UUID,
        name: str,
        scopes: frozenset[Scope],
        expires_at: datetime | None = None,
        *,
        by: Principal | None = None,
    ) -> tuple[Credential, str]:
        """A new API key and its secret, which is returned here once and never again. ``by``
        issues it (None: the operator, from a command-line tool)."""
        if not scopes:
            raise errors.InvalidInput("an API key needs at least one scope")
        credential = self._new(
            community_id, CredentialKind.API_KEY, name, scopes, None, expires_at, by
        )
        return await self._issue(credential)

    async def issue_member_token(
        self,
        community_id: uuid.UUID,
        member_id: uuid.UUID,
        name: str,
        expires_at: datetime | None = None,
        *,
        by: Principal | None = None,
    ) -> tuple[Credential, str]:
        """A token that acts as one member, on that member's own resources only. ``by`` issues
        it (None: the operator, from a command-line tool or the demo).

        It is personal (acts in the member's governance roles) when the operator issued it, or
        the member with a personal token of their own. A token of a current role holder that
        would not be personal is refused (:class:`RoleHolderToken`)."""
        credential = self._new(
            community_id, CredentialKind.MEMBER, name, MEMBER_SCOPES, member_id, expires_at, by
        )
        return await self._issue(credential)

    async def start_session(self, principal: Principal, ttl: timedelta) -> tuple[Credential, str]:
        """A web session of the member a member token stands for: a credential of its own that
        authenticates only as a session (``authenticate(…, session=True)``), never as a bearer
        token, and ends with the token it came from — at that token's expiry at the latest, and
        when it is revoked."""
        assert principal.kind is CredentialKind.MEMBER and principal.member_id is not None
        assert principal.community_id is not None
        parent_id = uuid.UUID(principal.credential_id)
        async with self._uow(write=False) as uow:
            parent = await uow.repo.get_credential(principal.community_id, parent_id)
        if parent is None or not parent.active(self._clock()):
            raise errors.CredentialNotFound(f"credential {parent_id} is revoked or expired")
        expires_at = self._clock() + ttl
        if parent.expires_at is not None:
            expires_at = min(expires_at, parent.expires_at)
        credential = self._new(
            principal.community_id,
            CredentialKind.MEMBER,
            SESSION_NAME,
            MEMBER_SCOPES,
            principal.member_id,
            expires_at,
            principal,
        )
        return await self._issue(replace(credential, session_of=parent_id))

    async def authenticate(
        self, secret: str, *, session: bool = False, digest: str | None = None
    ) -> Principal | None:
        """The principal a presented secret stands for, or None when it is unknown, revoked or
        expired (revoked elsewhere: within ``cache_ttl``). A web session stands for its member
        only where ``session`` is asked for (the member page) and any other credential only
        where it is not, so a session's cookie is no bearer token. ``digest``: the secret's
        :func:`secret_hash`, where the caller has it already (hashed once per request)."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        digest = digest or secret_hash(secret)
        now = self._clock()
        found = await self._credential(digest, now)
        if found is None or not found[0].active(now):
            return None
        credential, roles = found
        if (credential.session_of is not None) is not session:
            return None
        last = credential.last_used_at
        if last is None or now - last >= LAST_USED_RESOLUTION:
            cached = self._cache.get(digest)
            if cached is not None:
                # Before the write, so that concurrent requests do not all write it too.
                cached.credential = replace(credential, last_used_at=now)
            async with self._uow(write=True) as uow:
                await uow.repo.mark_credential(
                    credential.community_id, credential.id, last_used_at=now
                )
                await uow.commit()
        return Principal.of(credential, roles)

    async def _credential(
        self, digest: str, now: datetime
    ) -> tuple[Credential, frozenset[str]] | None:
        cached = self._cache.get(digest)
        if cached is not None and timedelta(0) <= now - cached.read_at < self._cache_ttl:
            return cached.credential, cached.roles
        revocations = self._revocations
        async with self._uow(write=False) as uow:
            credential = await uow.repo.credential_by_secret_hash(digest)
            if credential is not None and credential.session_of is not None:
                # A session ends with the credential it came from.
                parent = await uow.repo.get_credential(
                    credential.community_id, credential.session_of
                )
                if parent is None or parent.revoked_at is not None:
                    credential = replace(credential, revoked_at=credential.revoked_at or now)
        self._cache.pop(digest, None)
        if credential is None:
            return None
        roles: frozenset[str] = frozenset()
        if credential.personal and credential.member_id is not None and self._roles_of is not None:
            roles = await self._roles_of(credential.community_id, credential.member_id)
        if self._cache_ttl > timedelta(0) and revocations == self._revocations:
            if len(self._cache) >= CREDENTIAL_CACHE_ENTRIES:
                del self._cache[next(iter(self._cache))]
            self._cache[digest] = _Cached(credential, roles, now)
        return credential, roles

    async def revoke(self, community_id: uuid.UUID, credential_id: uuid.UUID) -> Credential:
        """Revokes a credential; in this process it authenticates nobody from now on."""
        now = self._clock()
        self._forget(credential_id)
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
        self._forget(credential_id)
        return replace(credential, revoked_at=now)

    async def revoke_member(self, community_id: uuid.UUID, member_id: uuid.UUID) -> int:
        """Revokes every credential of a member still unrevoked — tokens and web sessions —
        and returns how many; in this process they authenticate nobody from now on."""
        now = self._clock()
        self.forget_member(member_id)
        async with self._uow(write=True) as uow:
            if await uow.repo.get_member(community_id, member_id) is None:
                raise errors.MemberNotFound(f"member {member_id} does not exist")
            found = await uow.repo.unrevoked_credentials_of(community_id, member_id)
            for credential in found:
                await uow.repo.mark_credential(community_id, credential.id, revoked_at=now)
                await uow.repo.append_audit(
                    community_id, audit.event("revoke_credential", None, credential, now)
                )
            await uow.commit()
        self.forget_member(member_id)
        return len(found)

    def forget_member(self, member_id: uuid.UUID) -> None:
        """Drops what is kept of a member's credentials (their roles changed): their next
        request here reads the credential and the member's roles again."""
        self._drop(lambda credential: credential.member_id == member_id)

    def _forget(self, credential_id: uuid.UUID) -> None:
        """Drops a credential and the web sessions it started."""
        self._drop(lambda c: credential_id in {c.id, c.session_of})

    def _drop(self, which: Callable[[Credential], bool]) -> None:
        self._revocations += 1
        for digest in [d for d, c in self._cache.items() if which(c.credential)]:
            del self._cache[digest]

    def _new(  # noqa: PLR0917 - private, called twice with every field in order
        self,
        community_id: uuid.UUID,
        kind: CredentialKind,
        name: str,
        scopes: frozenset[Scope],
        member_id: uuid.UUID | None,
        expires_at: datetime | None,
        by: Principal | None,
    ) -> Credential:
        require_text("name", name)
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise errors.InvalidInput("expires_at must lie in the future")
        return Credential(
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
            issued_by=OPERATOR_ISSUER if by is None else by.issuer,
            personal=member_id is not None and _vouches_for(by, member_id),
        )

    async def _issue(self, credential: Credential) -> tuple[Credential, str]:
        community_id, member_id = credential.community_id, credential.member_id
        secret = new_secret()
        async with self._uow(write=True) as uow:
            if await uow.repo.get_community(community_id) is None:
                raise errors.CommunityNotFound(f"community {community_id} does not exist")
            if member_id is not None:
                if await uow.repo.get_member(community_id, member_id) is None:
                    raise errors.MemberNotFound(f"member {member_id} does not exist")
                if not credential.personal and await self._holds_role(community_id, member_id):
                    raise RoleHolderToken(
                        "only the operator or the member themselves can issue a token for a "
                        "current steward or treasurer"
                    )
            await uow.repo.insert_credential(credential, secret_hash(secret))
            # The trail names the credential, never its secret.
            event = audit.event(f"issue_{credential.kind}", None, credential, credential.created_at)
            await uow.repo.append_audit(community_id, event)
            await uow.commit()
        return credential, secret

    async def _holds_role(self, community_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        return self._roles_of is not None and bool(await self._roles_of(community_id, member_id))


def _vouches_for(by: Principal | None, member_id: uuid.UUID) -> bool:
    """Whether a token ``by`` issues for ``member_id`` is that member's own: the operator's, or
    the member's through a personal token of theirs (so a token someone else issued cannot be
    laundered into a personal one)."""
    if by is None or by.issues_as_operator:
        return True
    return by.kind is CredentialKind.MEMBER and by.member_id == member_id and by.personal
