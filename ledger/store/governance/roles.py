"""SQL of rotating roles: terms of stewards and treasurers, and who holds a role now."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ledger.governance.model import Role, RoleTerm
from ledger.store.scoped import ScopedStore
from ledger.store.tables import role_terms


class SqlRoles(ScopedStore):
    """Role terms."""

    async def insert_term(self, term: RoleTerm) -> None:
        await self._conn.execute(
            role_terms.insert().values(
                community_id=term.community_id,
                id=term.id,
                member_id=term.member_id,
                role=term.role.value,
                starts_at=term.starts_at,
                ends_at=term.ends_at,
                assigned_at=term.assigned_at,
                ended_at=term.ended_at,
            )
        )

    async def get_term(
        self, community_id: uuid.UUID, term_id: uuid.UUID, *, lock: bool = False
    ) -> RoleTerm | None:
        t = role_terms
        query = sa.select(t).where(t.c.community_id == community_id, t.c.id == term_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _term(row)

    async def end_term(
        self, community_id: uuid.UUID, term_id: uuid.UUID, ends_at: datetime, ended_at: datetime
    ) -> None:
        t = role_terms
        await self._conn.execute(
            t.update()
            .where(t.c.community_id == community_id, t.c.id == term_id)
            .values(ends_at=ends_at, ended_at=ended_at)
        )

    async def list_terms(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None,
        current_at: datetime | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[RoleTerm]:
        t = role_terms
        query = sa.select(t).where(t.c.community_id == community_id)
        if member_id is not None:
            query = query.where(t.c.member_id == member_id)
        if current_at is not None:
            query = query.where(_current(current_at))
        if after is not None:
            query = query.where(t.c.id > after)
        rows = await self._conn.execute(query.order_by(t.c.id).limit(limit))
        return [_term(row) for row in rows]

    async def current_roles(
        self, community_id: uuid.UUID, member_id: uuid.UUID, now: datetime
    ) -> frozenset[Role]:
        t = role_terms
        rows = await self._conn.execute(
            sa.select(t.c.role)
            .distinct()
            .where(t.c.community_id == community_id, t.c.member_id == member_id, _current(now))
        )
        return frozenset(Role(role) for (role,) in rows)

    async def current_holders(
        self, community_id: uuid.UUID, role: Role, now: datetime
    ) -> frozenset[uuid.UUID]:
        t = role_terms
        rows = await self._conn.execute(
            sa.select(t.c.member_id)
            .distinct()
            .where(t.c.community_id == community_id, t.c.role == role.value, _current(now))
        )
        return frozenset(uuid.UUID(str(member)) for (member,) in rows)


def _current(now: datetime) -> sa.ColumnElement[bool]:
    t = role_terms
    return sa.and_(t.c.starts_at <= now, sa.or_(t.c.ends_at.is_(None), t.c.ends_at > now))


def _term(row: Any) -> RoleTerm:
    return RoleTerm(
        community_id=row.community_id,
        id=row.id,
        member_id=row.member_id,
        role=Role(row.role),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        assigned_at=row.assigned_at,
        ended_at=row.ended_at,
    )
