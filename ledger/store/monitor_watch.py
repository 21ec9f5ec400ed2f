"""The check every counter write runs: which balance monitors the new counters moved across
their threshold (``SqlRepository.write_counters`` runs it with the accounts locked)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.audit import outbox
from ledger.events.monitors import Monitor, crossings
from ledger.kernel.model import AccountType, Counters
from ledger.store.tables import balance_monitors

_M = balance_monitors.c
# Built once, with bind parameters: every counter write runs it, and a statement built anew
# costs its construction and its cache-key walk each time (see ``ledger.store.accounts``). The
# communities and the accounts each as a set, for one community or several (a group across
# communities): the pairs this also finds are dropped in Python (account ids are unique anyway).
_OF_ACCOUNTS = sa.select(balance_monitors).where(
    _M.community_id.in_(sa.bindparam("community_ids", expanding=True)),
    _M.account_id.in_(sa.bindparam("account_ids", expanding=True)),
)


class SqlMonitorWatch:
    """The check every counter write runs: after new counters are written (accounts locked),
    the monitors of those accounts that changed side are stored so, and their events returned
    for the write's audit record (``SqlRepository.write_counters`` hands them on)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def watch(
        self, counters: Mapping[uuid.UUID, Mapping[uuid.UUID, Counters]]
    ) -> dict[uuid.UUID, list[outbox.NewEvent]]:
        """The events of the monitors each community's new ``counters`` (by account) moved
        across their threshold, each monitor's new side written: each community's events."""
        rows = await self._conn.execute(
            _OF_ACCOUNTS,
            {
                "community_ids": list(counters),
                "account_ids": [a for values in counters.values() for a in values],
            },
        )
        by_community: dict[uuid.UUID, list[Monitor]] = {c: [] for c in counters}
        for row in rows:
            monitor = monitor_of(row._mapping)
            if monitor.account_id in counters.get(monitor.community_id, {}):
                by_community[monitor.community_id].append(monitor)
        return {
            community_id: await self._crossed(community_id, monitors, counters[community_id])
            for community_id, monitors in by_community.items()
        }

    async def _crossed(
        self,
        community_id: uuid.UUID,
        monitors: list[Monitor],
        counters_by_account: Mapping[uuid.UUID, Counters],
    ) -> list[outbox.NewEvent]:
        """The events of ``monitors`` the new counters moved across, each one's side stored."""
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
