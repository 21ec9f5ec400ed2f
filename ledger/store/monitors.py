"""SQL of balance monitors, and the check every counter write runs (``SqlMonitorWatch``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.audit import outbox
from ledger.events.monitors import Monitor, crossings
from ledger.kernel.model import AccountType, Counters
from ledger.store.tables import balance_monitors

_M = balance_monitors.c


class SqlMonitorStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

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


class SqlMonitorWatch:
    """The check every counter write runs: after new counters are written (accounts locked),
    the monitors of those accounts that changed side are stored so, and their events returned
    for the write's audit record (``SqlRepository.write_counters`` hands them on)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def watch(
        self, community_id: uuid.UUID, counters_by_account: Mapping[uuid.UUID, Counters]
    ) -> list[outbox.NewEvent]:
        """The events of the monitors the new ``counters_by_account`` moved across their
        threshold, each monitor's new side written."""
        rows = await self._conn.execute(
            sa.select(balance_monitors).where(
                _M.community_id == community_id,
                _M.account_id.in_(list(counters_by_account)),
            )
        )
        monitors = [monitor_of(row._mapping) for row in rows]
        found: list[outbox.NewEvent] = []
        for monitor, event in crossings(monitors, counters_by_account):
            await self._conn.execute(
                balance_monitors.update()
                .where(_M.community_id == community_id, _M.id == monitor.id)
                .values(crossed=monitor.crossed)
            )
            found.append(event)
        return found


def monitor_of(row: Any) -> Monitor:
    return Monitor(
        community_id=row["community_id"],
        id=row["id"],
        account_id=row["account_id"],
        account_type=AccountType(row["account_type"]),
        direction=row["direction"],
        threshold=row["threshold"],
        measure=row["measure"],
        description=row["description"],
        crossed=row["crossed"],
        created_at=row["created_at"],
    )
