"""Balance monitors: a treasurer's threshold on an account, and an event when it is crossed.

A monitor remembers which side of its threshold the balance was on after the last write. Every
write that changes an account's counters compares, in its own transaction and under the
account's row lock, the new balance with that memory: only a change of side emits
``balance.threshold_crossed`` (``beyond`` true when the balance went past the threshold, false
when it came back) — once per crossing, never once per entry.

``measure`` picks the figure watched: ``posted``, or ``available`` — for ``below``, the lowest
the balance reaches if every pending entry posts (what ``min_balance`` is checked against), for
``above``, the highest (what ``max_balance`` is checked against). E.g. "a member's hours come
within 60 minutes of their −600 limit" is ``below -540`` on ``available``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Protocol

from ledger.audit import chain as audit
from ledger.audit.outbox import NewEvent
from ledger.books.cases import open_account_found
from ledger.books.envelope import WriteEnvelope
from ledger.books.ports import UnitOfWork as BooksUnitOfWork
from ledger.books.ports import UnitOfWorkFactory as BooksUnitOfWorkFactory
from ledger.kernel import errors
from ledger.kernel.model import Account, AccountType, Balance, Counters, IdempotencyKey, new_id
from ledger.kernel.uow import UnitOfWork

DIRECTIONS: Final = ("below", "above")
MEASURES: Final = ("posted", "available")
DESCRIPTION_MAX_CHARS: Final = 200
THRESHOLD_ABS_MAX: Final = 2**62


class MonitorNotFound(errors.NotFound):
    """No balance monitor with that id in the community."""

    code = "monitor_not_found"


# A write under an idempotency key stores a rejection by code; its replay rebuilds the error from
# the core's table, so the code joins it.
errors.ERROR_TYPES[MonitorNotFound.code] = MonitorNotFound


@dataclass(frozen=True, slots=True)
class Monitor:
    community_id: uuid.UUID
    id: uuid.UUID
    account_id: uuid.UUID
    account_type: AccountType
    direction: str
    threshold: int
    """In the commodity's smallest unit, in the account's normal direction."""
    measure: str
    description: str
    crossed: bool
    """Whether the balance was beyond the threshold after the last write."""
    created_at: datetime

    def value(self, balance: Balance) -> int:
        if self.measure == "posted":
            return balance.posted
        return balance.available if self.direction == "below" else balance.ceiling

    def beyond(self, counters: Counters) -> bool:
        balance = Balance.from_counters(self.account_id, "", self.account_type, counters)
        value = self.value(balance)
        return value < self.threshold if self.direction == "below" else value > self.threshold


def crossings(
    monitors: Sequence[Monitor], counters_by_account: Mapping[uuid.UUID, Counters]
) -> list[tuple[Monitor, NewEvent]]:
    """The monitors whose side changed with these new counters, in their new state, with the
    event of each crossing."""
    changed = []
    for monitor in monitors:
        counters = counters_by_account.get(monitor.account_id)
        if counters is None:
            continue
        beyond = monitor.beyond(counters)
        if beyond == monitor.crossed:
            continue
        balance = Balance.from_counters(monitor.account_id, "", monitor.account_type, counters)
        event = NewEvent(
            "balance.threshold_crossed",
            "monitor",
            str(monitor.id),
            {
                "monitor_id": str(monitor.id),
                "account_id": str(monitor.account_id),
                "direction": monitor.direction,
                "measure": monitor.measure,
                "threshold": monitor.threshold,
                "value": monitor.value(balance),
                "beyond": beyond,
                "description": monitor.description,
            },
            account_ids=(monitor.account_id,),
        )
        changed.append((replace(monitor, crossed=beyond), event))
    return changed


class MonitorStore(Protocol):
    async def insert(self, monitor: Monitor) -> None: ...
    async def get(self, community_id: uuid.UUID, monitor_id: uuid.UUID) -> Monitor | None: ...
    async def list(
        self,
        community_id: uuid.UUID,
        *,
        account_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Monitor]: ...
    async def delete(self, community_id: uuid.UUID, monitor_id: uuid.UUID) -> None: ...


class MonitorRepository(Protocol):
    """What the monitors read and write through the books' repository."""

    async def get_account(
        self, community_id: uuid.UUID, account_id: uuid.UUID, *, lock: bool = False
    ) -> Account | None: ...
    async def append_audit(self, community_id: uuid.UUID, event: audit.AuditEvent) -> None: ...


StoreOf = Callable[[UnitOfWork[MonitorRepository]], MonitorStore]
"""Builds the monitor store on a unit of work, in its transaction
(``ledger.store.monitors.SqlMonitorStore.of``)."""


def check_monitor(direction: str, threshold: int, measure: str, description: str) -> None:
    if direction not in DIRECTIONS:
        raise errors.InvalidInput(f"direction must be one of {', '.join(DIRECTIONS)}")
    if measure not in MEASURES:
        raise errors.InvalidInput(f"measure must be one of {', '.join(MEASURES)}")
    if type(threshold) is not int or abs(threshold) > THRESHOLD_ABS_MAX:
        raise errors.InvalidInput(f"threshold must be a whole number within ±{THRESHOLD_ABS_MAX}")
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX_CHARS:
        raise errors.InvalidInput(f"description must be at most {DESCRIPTION_MAX_CHARS} chars")


class Monitors:
    def __init__(
        self,
        units: BooksUnitOfWorkFactory,
        store: StoreOf,
        clock: Callable[[], datetime],
    ) -> None:
        self._units = units
        self._store = store
        self._clock = clock
        # Creating and deleting are writes like any other: one envelope, the key claimed first.
        self._envelope = WriteEnvelope(units, clock)

    async def create(
        self,
        community_id: uuid.UUID,
        account_id: uuid.UUID,
        *,
        direction: str,
        threshold: int,
        measure: str = "posted",
        description: str = "",
        key: IdempotencyKey | None = None,
    ) -> Monitor:
        """A monitor that starts on the side the balance is on now (no event for that); under
        ``key``, once (``ledger.books.envelope``)."""
        check_monitor(direction, threshold, measure, description)
        request = {
            "account_id": account_id,
            "direction": direction,
            "threshold": threshold,
            "measure": measure,
            "description": description,
        }

        async def work(unit: BooksUnitOfWork) -> Monitor:
            # Locked like a write to the account, so no entry slips between reading the
            # balance and storing the side it is on.
            account = open_account_found(
                await unit.repo.get_account(community_id, account_id, lock=True), account_id
            )
            monitor = Monitor(
                community_id=community_id,
                id=new_id(),
                account_id=account_id,
                account_type=account.type,
                direction=direction,
                threshold=threshold,
                measure=measure,
                description=description,
                crossed=False,
                created_at=self._clock(),
            )
            monitor = replace(monitor, crossed=monitor.beyond(account.counters))
            await self._store(unit).insert(monitor)
            return monitor

        return await self._envelope.write(
            community_id, "create_monitor", request, key, work=work, result_type=Monitor
        )

    async def get(self, community_id: uuid.UUID, monitor_id: uuid.UUID) -> Monitor:
        async with self._units(write=False) as unit:
            found = await self._store(unit).get(community_id, monitor_id)
        if found is None:
            raise MonitorNotFound(f"monitor {monitor_id} does not exist")
        return found

    async def list(
        self,
        community_id: uuid.UUID,
        *,
        account_id: uuid.UUID | None = None,
        after: uuid.UUID | None = None,
        limit: int = 50,
    ) -> Sequence[Monitor]:
        async with self._units(write=False) as unit:
            return await self._store(unit).list(
                community_id, account_id=account_id, after=after, limit=limit
            )

    async def delete(
        self, community_id: uuid.UUID, monitor_id: uuid.UUID, key: IdempotencyKey | None = None
    ) -> Monitor:
        """Deletes the monitor and returns it; under ``key``, a retry answers the same."""

        async def work(unit: BooksUnitOfWork) -> Monitor:
            store = self._store(unit)
            monitor = await store.get(community_id, monitor_id)
            if monitor is None:
                raise MonitorNotFound(f"monitor {monitor_id} does not exist")
            await store.delete(community_id, monitor_id)
            return monitor

        request = {"monitor_id": monitor_id}
        return await self._envelope.write(
            community_id, "delete_monitor", request, key, work=work, result_type=Monitor
        )
