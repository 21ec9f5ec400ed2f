"""Recurring entries: monthly dues, a rent share, a standing transfer into the emergency fund.

A schedule moves ``amount`` from its credit account to its debit account on every date of its
frequency, from ``start_date`` (the first occurrence) to ``end_date``. Monthly, quarterly and
yearly dates keep the start's day of the month, clamped to the month's last day (a schedule
starting on 31 January falls on 28 or 29 February, then on 31 March).

**Exactly once per period.** :meth:`Schedules.materialise_due` writes every occurrence due up to
``today`` that is not written yet, each in a transaction of its own that writes the entry *and*
the ``(community, schedule, period)`` row of ``schedule_occurrences``; that primary key, inserted
with ``ON CONFLICT DO NOTHING``, refuses a second entry for a period, and the transaction that
loses rolls its entry back. The schedule row is locked first (PostgreSQL ``FOR UPDATE``; SQLite
writers are serial anyway), so two runners queue per schedule and the second finds the period
taken. A crash between two occurrences leaves the committed ones; a re-run writes the rest.
Call it as often as you like, from as many processes as you like (the job runner: daily).

**Pause, resume, end.** A paused schedule writes nothing; on resume, dates that fell in the
pause are skipped, not caught up. An ended schedule never writes or changes again. An
occurrence the ledger rejects (``limit_exceeded``: the bank lacks the money, a closed account)
is not written and is tried again at the next run.
"""

from __future__ import annotations

import calendar
import enum
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Final

from ledger.audit import chain as audit
from ledger.books import rules
from ledger.books.cases import open_account_found
from ledger.books.ports import Repository
from ledger.economy.errors import (
    ScheduleEnded,
    ScheduleNotActive,
    ScheduleNotFound,
    ScheduleNotPaused,
)
from ledger.economy.ports import Books, EconomyStore, Schedule, write_entry
from ledger.kernel import errors
from ledger.kernel.inputs import check_page_size
from ledger.kernel.model import IdempotencyKey, NewEntry, PostingSpec, new_id

SCHEDULED_KIND: Final = "scheduled"
BACKDATE_MAX: Final = timedelta(days=5 * 366)
"""How far back a schedule may start: bounds the catch-up of one run."""


class Frequency(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class ScheduleStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


_MONTHS: Final = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}


def add_months(day: date, months: int) -> date:
    """``day`` ``months`` later, its day of the month clamped to the month's length."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def dates(frequency: Frequency, start: date) -> Iterator[date]:
    """Every date of the frequency from ``start`` on (endless)."""
    step = 0
    while True:
        if frequency is Frequency.WEEKLY:
            yield start + timedelta(weeks=step)
        else:
            yield add_months(start, _MONTHS[frequency] * step)
        step += 1


def due_periods(schedule: Schedule, today: date) -> list[date]:
    """The periods of an active schedule due by ``today``: its dates up to ``today`` and its end,
    except those skipped by a pause."""
    if schedule.status != ScheduleStatus.ACTIVE:
        return []
    last = today if schedule.end_date is None else min(today, schedule.end_date)
    due = []
    for period in dates(Frequency(schedule.frequency), schedule.start_date):
        if period > last:
            break
        if schedule.resumed_on is None or period >= schedule.resumed_on:
            due.append(period)
    return due


@dataclass(frozen=True, slots=True)
class NewSchedule:
    description: str
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    """Smallest unit of the two accounts' commodity."""
    frequency: Frequency
    start_date: date
    end_date: date | None = None


@dataclass(frozen=True, slots=True)
class ScheduleView:
    schedule: Schedule
    materialised: int
    """Occurrences written so far."""
    last_period: date | None
    next_period: date | None
    """The next date it will write, if active and not past its end."""


@dataclass(frozen=True, slots=True)
class Failure:
    schedule_id: uuid.UUID
    period: date
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Materialised:
    created: int
    failures: tuple[Failure, ...]


class Schedules:
    def __init__(self, books: Books) -> None:
        self._books = books

    async def create(
        self,
        community_id: uuid.UUID,
        spec: NewSchedule,
        idempotency_key: IdempotencyKey | None = None,
    ) -> ScheduleView:
        """``account_not_found``; ``invalid_input`` for accounts of two commodities, a bad
        amount, frequency or dates."""
        today = self._books.clock().date()
        _check_new(spec, today)

        async def work(repo: Repository, store: EconomyStore) -> ScheduleView:
            debit, credit = [
                open_account_found(await repo.get_account(community_id, account_id), account_id)
                for account_id in (spec.debit_account_id, spec.credit_account_id)
            ]
            if debit.commodity != credit.commodity:
                raise errors.InvalidInput("both accounts of a schedule must be in one commodity")
            schedule = Schedule(
                community_id, new_id(), spec.description, spec.debit_account_id,
                spec.credit_account_id, spec.amount, spec.frequency.value, spec.start_date,
                spec.end_date, ScheduleStatus.ACTIVE.value, None, self._books.clock(),
            )  # fmt: skip
            await store.insert_schedule(schedule)
            return _view(schedule, {})

        return await self._books.write(
            community_id,
            "create_schedule",
            spec,
            idempotency_key,
            work=work,
            result_type=ScheduleView,
        )

    async def get(self, community_id: uuid.UUID, schedule_id: uuid.UUID) -> ScheduleView:
        async def work(_: Repository, store: EconomyStore) -> ScheduleView:
            schedule = await _schedule(store, community_id, schedule_id)
            return _view(schedule, await store.occurrences(community_id, schedule_id))

        return await self._books.read(work)

    async def list_schedules(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 50
    ) -> list[ScheduleView]:
        check_page_size(limit)

        async def work(_: Repository, store: EconomyStore) -> list[ScheduleView]:
            found = await store.list_schedules(community_id, after=after, limit=limit)
            return [_view(s, await store.occurrences(community_id, s.id)) for s in found]

        return await self._books.read(work)

    async def occurrences(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID
    ) -> list[tuple[date, uuid.UUID]]:
        """The periods written so far, oldest first, with their entries."""

        async def work(_: Repository, store: EconomyStore) -> list[tuple[date, uuid.UUID]]:
            await _schedule(store, community_id, schedule_id)
            return sorted((await store.occurrences(community_id, schedule_id)).items())

        return await self._books.read(work)

    async def pause(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID, key: IdempotencyKey | None = None
    ) -> ScheduleView:
        """``schedule_not_active`` unless active; ``schedule_ended``."""
        return await self._change(community_id, schedule_id, "pause_schedule", key)

    async def resume(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID, key: IdempotencyKey | None = None
    ) -> ScheduleView:
        """Active again from today: dates that fell in the pause are skipped.
        ``schedule_not_paused`` unless paused; ``schedule_ended``."""
        return await self._change(community_id, schedule_id, "resume_schedule", key)

    async def end(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID, key: IdempotencyKey | None = None
    ) -> ScheduleView:
        """No occurrence is written any more; its end date becomes today at the latest."""
        return await self._change(community_id, schedule_id, "end_schedule", key)

    async def _change(
        self,
        community_id: uuid.UUID,
        schedule_id: uuid.UUID,
        operation: str,
        key: IdempotencyKey | None,
    ) -> ScheduleView:
        today = self._books.clock().date()

        async def work(_: Repository, store: EconomyStore) -> ScheduleView:
            schedule = await _schedule(store, community_id, schedule_id, lock=True)
            changed = _changed(schedule, operation, today)
            await store.update_schedule(changed)
            return _view(changed, await store.occurrences(community_id, schedule_id))

        return await self._books.write(
            community_id, operation, schedule_id, key, work=work, result_type=ScheduleView
        )

    async def materialise_due(self, community_id: uuid.UUID, today: date) -> int:
        """Writes every occurrence due by ``today`` not written yet; returns how many it wrote.
        Safe to call repeatedly and concurrently: each period is written exactly once."""
        return (await self.materialise(community_id, today)).created

    async def materialise(self, community_id: uuid.UUID, today: date) -> Materialised:
        """:meth:`materialise_due`, also saying which occurrences the ledger rejected."""

        async def work(_: Repository, store: EconomyStore) -> list[tuple[uuid.UUID, date]]:
            found = await store.list_schedules(
                community_id, after=None, limit=None, status=ScheduleStatus.ACTIVE.value
            )
            todo = []
            for schedule in found:
                done = await store.occurrences(community_id, schedule.id)
                todo += [(schedule.id, p) for p in due_periods(schedule, today) if p not in done]
            return todo

        created, failures = 0, []
        for schedule_id, period in await self._books.read(work):
            try:
                created += await self._materialise_one(community_id, schedule_id, period, today)
            except errors.LedgerError as exc:
                failures.append(Failure(schedule_id, period, exc.code, exc.detail))
        return Materialised(created, tuple(failures))

    async def _materialise_one(
        self, community_id: uuid.UUID, schedule_id: uuid.UUID, period: date, today: date
    ) -> int:
        books = self._books
        async with books.units(write=True) as uow:
            repo, store = uow.repo, books.store_of(uow)
            schedule = await store.get_schedule(community_id, schedule_id, lock=True)
            if schedule is None or period not in due_periods(schedule, today):
                return 0  # paused or ended meanwhile
            if period in await store.occurrences(community_id, schedule_id):
                return 0  # another runner wrote it
            spec = NewEntry(
                postings=(
                    PostingSpec(schedule.debit_account_id, schedule.amount),
                    PostingSpec(schedule.credit_account_id, -schedule.amount),
                ),
                description=schedule.description,
                effective_date=period,
                kind=SCHEDULED_KIND,
                metadata={"schedule_id": str(schedule_id), "period": period.isoformat()},
            )
            now = books.clock()
            entry = await write_entry(repo, community_id, spec, now)
            if not await store.insert_occurrence(community_id, schedule_id, period, entry.id, now):
                return 0  # leaving without commit rolls the entry back
            event = audit.event("materialise_schedule", None, entry, now)
            await repo.append_audit(community_id, event)
            await uow.commit()
        return 1


def _check_new(spec: NewSchedule, today: date) -> None:
    rules.check_description(spec.description)
    if not spec.description.strip():
        raise errors.InvalidInput("a schedule needs a description")
    if type(spec.amount) is not int or not 0 < spec.amount <= 2**53 - 1:
        raise errors.InvalidAmount(f"amount must be a positive integer, got {spec.amount!r}")
    if spec.debit_account_id == spec.credit_account_id:
        raise errors.InvalidInput("a schedule moves money between two different accounts")
    try:
        Frequency(spec.frequency)
    except ValueError:
        raise errors.InvalidInput(
            f"frequency must be one of {[f.value for f in Frequency]}"
        ) from None
    rules.check_effective_date(spec.start_date, "start_date")
    rules.check_effective_date(spec.end_date, "end_date")
    if spec.start_date < today - BACKDATE_MAX:
        raise errors.InvalidInput("a schedule may start at most five years back")
    if spec.end_date is not None and spec.end_date < spec.start_date:
        raise errors.InvalidInput("end_date must not come before start_date")


def _changed(schedule: Schedule, operation: str, today: date) -> Schedule:
    if schedule.status == ScheduleStatus.ENDED:
        raise ScheduleEnded(f"schedule {schedule.id} has ended")
    if operation == "pause_schedule":
        if schedule.status != ScheduleStatus.ACTIVE:
            raise ScheduleNotActive(f"schedule {schedule.id} is {schedule.status}")
        return replace(schedule, status=ScheduleStatus.PAUSED.value)
    if operation == "resume_schedule":
        if schedule.status != ScheduleStatus.PAUSED:
            raise ScheduleNotPaused(f"schedule {schedule.id} is {schedule.status}")
        return replace(schedule, status=ScheduleStatus.ACTIVE.value, resumed_on=today)
    end = today if schedule.end_date is None else min(schedule.end_date, today)
    return replace(
        schedule,
        status=ScheduleStatus.ENDED.value,
        end_date=max(end, schedule.start_date - timedelta(days=1)),
    )


def _view(schedule: Schedule, done: dict[date, uuid.UUID]) -> ScheduleView:
    last = max(done) if done else None
    upcoming = None
    if schedule.status != ScheduleStatus.ENDED:
        for period in dates(Frequency(schedule.frequency), schedule.start_date):
            if schedule.end_date is not None and period > schedule.end_date:
                break
            if period not in done and (
                schedule.resumed_on is None or period >= schedule.resumed_on
            ):
                upcoming = period
                break
    return ScheduleView(schedule, len(done), last, upcoming)


async def _schedule(
    store: EconomyStore, community_id: uuid.UUID, schedule_id: uuid.UUID, *, lock: bool = False
) -> Schedule:
    schedule = await store.get_schedule(community_id, schedule_id, lock=lock)
    if schedule is None:
        raise ScheduleNotFound(f"schedule {schedule_id} does not exist")
    return schedule
