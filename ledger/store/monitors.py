"""SQL of balance monitors (``ledger.events.monitors.MonitorStore``); the check each counter write
runs is ``ledger.store.monitor_watch``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa

from ledger.events.monitors import Monitor
from ledger.store.monitor_watch import monitor_of
from ledger.store.scoped import ScopedStore
from ledger.store.tables import balance_monitors

_M = balance_monitors.c


class SqlMonitorStore(ScopedStore):
    """Balance monitors over one unit of work's connection."""

    async def insert(self, monitor: Monitor) -> None:
        await self._conn.execute(
            balance_monitors.insert().values(
                community_id=monitor.community_id,
                id=monitor.id,
                account_id=monitor.account_id,
                account_type=monitor.account_type.value,
                direction=monitor.direction,
                threshold=monitor.threshold,
                measure=monitor.measure,
                description=monitor.description,
                crossed=monitor.crossed,
                created_at=monitor.created_at,
            )
        )

    async def get(self, community_id: uuid.UUID, monitor_id: uuid.UUID) -> Monitor | None:
        row = (
            await self._conn.execute(
                sa.select(balance_monitors).where(
                    _M.community_id == community_id, _M.id == monitor_id
                )
            )
        ).first()
        return None if row is None else monitor_of(row._mapping)

    async def list(
        self,
        community_id: uuid.UUID,
        *,
        account_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Monitor]:
        query = sa.select(balance_monitors).where(_M.community_id == community_id)
        if account_id is not None:
            query = query.where(_M.account_id == account_id)
        if after is not None:
            query = query.where(_M.id > after)
        rows = await self._conn.execute(query.order_by(_M.id).limit(limit))
        return [monitor_of(row._mapping) for row in rows]

    async def delete(self, community_id: uuid.UUID, monitor_id: uuid.UUID) -> None:
        await self._conn.execute(
            balance_monitors.delete().where(_M.community_id == community_id, _M.id == monitor_id)
        )
