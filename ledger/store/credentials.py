"""SQL of credentials (API keys and member tokens, stored as hashes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.access.principals import Credential, CredentialKind, Issuer, IssuerKind, Scope
from ledger.store.tables import credentials


class SqlCredentials:
    """Credentials over one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def insert_credential(self, credential: Credential, secret_hash: str) -> None:
        issuer = credential.issued_by
        await self._conn.execute(
            credentials.insert().values(
                community_id=credential.community_id,
                id=credential.id,
                kind=credential.kind.value,
                name=credential.name,
                scopes=" ".join(sorted(credential.scopes)),
                member_id=credential.member_id,
                secret_hash=secret_hash,
                created_at=credential.created_at,
                expires_at=credential.expires_at,
                revoked_at=credential.revoked_at,
                last_used_at=credential.last_used_at,
                issuer_kind=None if issuer is None else issuer.kind.value,
                issuer_id=None if issuer is None else issuer.credential_id,
                personal=credential.personal,
                session_of=credential.session_of,
            )
        )

    async def credential_by_secret_hash(self, secret_hash: str) -> Credential | None:
        row = (
            await self._conn.execute(
                sa.select(credentials).where(credentials.c.secret_hash == secret_hash)
            )
        ).first()
        return None if row is None else _credential(row)

    async def unrevoked_credentials_of(
        self, community_id: uuid.UUID, member_id: uuid.UUID
    ) -> Sequence[Credential]:
        rows = await self._conn.execute(
            sa.select(credentials).where(
                credentials.c.community_id == community_id,
                credentials.c.member_id == member_id,
                credentials.c.revoked_at.is_(None),
            )
        )
        return [_credential(row) for row in rows]

    async def get_credential(
        self, community_id: uuid.UUID, credential_id: uuid.UUID
    ) -> Credential | None:
        row = (
            await self._conn.execute(
                sa.select(credentials).where(
                    credentials.c.community_id == community_id, credentials.c.id == credential_id
                )
            )
        ).first()
        return None if row is None else _credential(row)

    async def mark_credential(
        self,
        community_id: uuid.UUID,
        credential_id: uuid.UUID,
        *,
        last_used_at: datetime | None = None,
        revoked_at: datetime | None = None,
    ) -> None:
        values = {
            name: value
            for name, value in (("last_used_at", last_used_at), ("revoked_at", revoked_at))
            if value is not None
        }
        await self._conn.execute(
            credentials.update()
            .where(credentials.c.community_id == community_id, credentials.c.id == credential_id)
            .values(values)
        )


def _credential(row: sa.Row[Any]) -> Credential:
    return Credential(
        community_id=row.community_id,
        id=row.id,
        kind=CredentialKind(row.kind),
        name=row.name,
        scopes=frozenset(Scope(name) for name in row.scopes.split()),
        member_id=row.member_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        issued_by=None
        if row.issuer_kind is None
        else Issuer(IssuerKind(row.issuer_kind), row.issuer_id),
        personal=row.personal,
        session_of=row.session_of,
    )
