"""What the cooperative-economy use cases need from persistence, and their one write shape.

The economy features (chart templates, restricted funds, barter, schedules) are built on the
ledger core: their money moves as ordinary journal entries written by :func:`write_entry`, which
runs the core's pure checks on account rows locked in id order — so limits, balancing per
commodity and atomicity hold exactly as for any entry, also under concurrency. Their own rows
(funds, schedules, occurrences, designations) live in an ``EconomyStore`` built on the same
unit of work (``store_of(uow)``), in the same transaction.

:class:`Books.write` runs these use cases in the ledger's one write envelope
(``ledger.books.envelope``): one unit of work, the idempotency key claimed first, every check
before the first write, the outcome stored under the key and one audit event per effective
write, committed once, and the observer told.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

from ledger.books import rules
from ledger.books.envelope import WriteEnvelope
from ledger.books.ports import Repository, UnitOfWork, UnitOfWorkFactory
from ledger.books.writes import write_checked_entry
from ledger.kernel.clock import Clock
from ledger.kernel.model import Entry, IdempotencyKey, NewEntry
from ledger.kernel.observer import LedgerEvents

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Fund:
    """A restricted fund: money given for one purpose, held in its own asset account whose
    ``balance_min`` is 0, so spending from it can never exceed what it holds."""

    community_id: uuid.UUID
    id: uuid.UUID
    name: str
    purpose: str
    account_id: uuid.UUID
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Schedule:
    """A recurring transfer: ``amount`` (smallest unit of the accounts' commodity) from
    ``credit_account_id`` to ``debit_account_id`` on every date of its frequency from
    ``start_date`` to ``end_date``."""

    community_id: uuid.UUID
    id: uuid.UUID
    description: str
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    frequency: str
    start_date: date
    end_date: date | None
    status: str
    resumed_on: date | None
    """Occurrences dated before it fall in a pause and are skipped."""
    created_at: datetime


class EconomyStore(Protocol):
    """Reads and writes of the economy's own rows, in the unit of work's transaction."""

    async def account_id_by_code(self, community_id: uuid.UUID, code: str) -> uuid.UUID | None: ...
    async def designate(
        self, community_id: uuid.UUID, account_id: uuid.UUID, designation: str
    ) -> None:
        """Records the designation unless the account has one already."""
        ...

    async def designations(self, community_id: uuid.UUID) -> dict[uuid.UUID, str]: ...

    async def insert_fund(self, fund: Fund) -> None: ...
    async def get_fund(self, community_id: uuid.UUID, fund_id: uuid.UUID) -> Fund | None: ...
    async def list_funds(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int | None
    ) -> Sequence[Fund]: ...

    async def insert_schedule(self, schedule: Schedule) -> None: ...
    async def get_schedule(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID, *, lock: bool = False
    ) -> Schedule | None: ...
    async def list_schedules(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int | None,
        status: str | None = None,
    ) -> Sequence[Schedule]: ...
    async def update_schedule(self, schedule: Schedule) -> None:
        """Stores status, end date and resume date."""
        ...

    async def occurrences(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID
    ) -> dict[date, uuid.UUID]:
        """The periods materialised so far and their entries."""
        ...

    async def insert_occurrence(
        self,
        community_id: uuid.UUID,
        schedule_id: uuid.UUID,
        period: date,
        entry_id: uuid.UUID,
        created_at: datetime,
    ) -> bool:
        """Claims the period for the entry; False when it was claimed already (then nothing
        was written and the caller must roll back)."""
        ...


StoreOf = Callable[[UnitOfWork], EconomyStore]
"""Builds the economy store on a unit of work, in its transaction
(``ledger.store.economy.SqlEconomyStore.of``)."""

Work = Callable[[Repository, EconomyStore], Awaitable[T]]


class Books:
    """Runs the economy's units of work: ``units`` opens them (the ledger's own), ``store_of``
    builds the economy store on each, ``clock`` tells UTC time, ``events`` hears of every write."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        store_of: StoreOf,
        clock: Clock,
        events: LedgerEvents | None = None,
    ) -> None:
        self.units = units
        self.store_of = store_of
        self.clock = clock
        self._envelope = WriteEnvelope(units, clock, events)

    async def read(self, work: Work[T]) -> T:
        async with self.units(write=False) as uow:
            return await work(uow.repo, self.store_of(uow))

    async def write(
        self,
        community_id: uuid.UUID,
        operation: str,
        request: object,
        key: IdempotencyKey | None,
        *,
        work: Work[T],
        result_type: type[T],
    ) -> T:
        """``work`` in the one write envelope (``ledger.books.envelope``) under ``key``."""

        async def in_unit(uow: UnitOfWork) -> T:
            return await work(uow.repo, self.store_of(uow))

        return await self._envelope.write(
            community_id, operation, request, key, work=in_unit, result_type=result_type
        )


async def write_entry(
    repo: Repository, community_id: uuid.UUID, spec: NewEntry, now: datetime
) -> Entry:
    """Writes ``spec`` exactly as the core does, in the caller's unit of work."""
    rules.check_entry(spec)
    return await write_checked_entry(repo, community_id, spec, lambda: now)
