"""SQL of cross exchanges and the directory (``ledger.federation.ports.FederationStore``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ledger.federation.exchange_model import CrossExchange, CrossStatus, ExchangeRole
from ledger.store.scoped import ScopedStore
from ledger.store.tables import federation_directory, federation_exchanges, members

_x = federation_exchanges
_d = federation_directory


def _exchange_of(row: Any) -> CrossExchange:
    return CrossExchange(
        community_id=row.community_id,
        id=row.id,
        link_id=row.link_id,
        role=ExchangeRole(row.role),
        member_id=row.member_id,
        partner_member_id=row.partner_member_id,
        minutes=row.minutes,
        description=row.description,
        category=row.category,
        recorded_here=row.recorded_here,
        status=CrossStatus(row.status),
        created_at=row.created_at,
        completed_at=row.completed_at,
        partner_name=row.partner_name,
        reason=row.reason,
    )


class SqlFederationExchanges(ScopedStore):
    async def insert_exchange(self, exchange: CrossExchange) -> None:
        await self._conn.execute(
            _x.insert().values(
                community_id=exchange.community_id,
                id=exchange.id,
                link_id=exchange.link_id,
                role=exchange.role.value,
                member_id=exchange.member_id,
                partner_member_id=exchange.partner_member_id,
                minutes=exchange.minutes,
                description=exchange.description,
                category=exchange.category,
                recorded_here=exchange.recorded_here,
                status=exchange.status.value,
                created_at=exchange.created_at,
                completed_at=exchange.completed_at,
                partner_name=exchange.partner_name,
                reason=exchange.reason,
            )
        )

    async def get_exchange(
        self, community_id: uuid.UUID, exchange_id: uuid.UUID, *, lock: bool = False
    ) -> CrossExchange | None:
        query = sa.select(_x).where(_x.c.community_id == community_id, _x.c.id == exchange_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _exchange_of(row)

    async def complete_exchange(self, exchange: CrossExchange) -> None:
        await self._conn.execute(
            _x.update()
            .where(_x.c.community_id == exchange.community_id, _x.c.id == exchange.id)
            .values(
                status=exchange.status.value,
                completed_at=exchange.completed_at,
                partner_name=exchange.partner_name,
                reason=exchange.reason,
            )
        )

    async def list_exchanges(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None,
        status: CrossStatus | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[CrossExchange]:
        query = sa.select(_x).where(_x.c.community_id == community_id)
        if member_id is not None:
            query = query.where(_x.c.member_id == member_id)
        if status is not None:
            query = query.where(_x.c.status == status.value)
        if after is not None:
            query = query.where(_x.c.id > after)
        rows = await self._conn.execute(query.order_by(_x.c.id).limit(limit))
        return [_exchange_of(row) for row in rows]

    async def set_listed(
        self, community_id: uuid.UUID, member_id: uuid.UUID, listed: bool, at: datetime
    ) -> None:
        await self._conn.execute(
            _d.delete().where(_d.c.community_id == community_id, _d.c.member_id == member_id)
        )
        if listed:
            await self._conn.execute(
                _d.insert().values(community_id=community_id, member_id=member_id, listed_at=at)
            )

    async def is_listed(self, community_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        query = sa.select(_d.c.member_id).where(
            _d.c.community_id == community_id, _d.c.member_id == member_id
        )
        return (await self._conn.execute(query)).first() is not None

    async def listed_members(self, community_id: uuid.UUID) -> Sequence[tuple[uuid.UUID, str]]:
        m = members
        query = (
            sa.select(m.c.id, m.c.name)
            .join(_d, sa.and_(_d.c.community_id == m.c.community_id, _d.c.member_id == m.c.id))
            .where(m.c.community_id == community_id)
            .order_by(m.c.name, m.c.id)
        )
        return [(row.id, row.name) for row in await self._conn.execute(query)]
