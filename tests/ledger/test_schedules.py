"""Recurring entries: each period written exactly once — re-runs, crashes, concurrent runners —
and the periods written are exactly the schedule's dates."""

from __future__ import annotations

import asyncio
import calendar
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.economy.errors import (
    ScheduleEnded,
    ScheduleNotActive,
    ScheduleNotFound,
    ScheduleNotPaused,
)
from ledger.economy.schedules import (
    SCHEDULED_KIND,
    Frequency,
    NewSchedule,
    ScheduleView,
    add_months,
)
from ledger.economy.service import Economy
from ledger.kernel import errors
from ledger.kernel.model import Community, new_id
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.economy import SqlEconomyStore
from tests.conftest import unique_slug
from tests.ledger.economy_fixtures import Clock, account, clock, coop, economy

__all__ = ["clock", "coop", "economy"]


async def _dues(
    ledger: Ledger,
    economy: Economy,
    coop: Community,
    *,
    frequency: Frequency = Frequency.MONTHLY,
    start: date = date(2026, 1, 31),
    end: date | None = None,
) -> ScheduleView:
    bank = await account(ledger, coop, "Assets:Bank")
    dues = await account(ledger, coop, "Income:Dues")
    spec = NewSchedule("Monthly dues", bank.id, dues.id, 2_500, frequency, start, end)
    return await economy.schedules.create(coop.id, spec)


async def _scheduled_entries(ledger: Ledger, coop: Community) -> list[tuple[str, str]]:
    found = await ledger.list_entries(coop.id, kind=SCHEDULED_KIND, limit=1000)
    return sorted((e.metadata["schedule_id"], e.metadata["period"]) for e in found)


async def test_each_due_period_is_written_once(
    ledger: Ledger, economy: Economy, coop: Community
) -> None:
    view = await _dues(ledger, economy, coop)
    assert view.next_period == date(2026, 1, 31)
    assert await economy.materialise_due(coop.id, date(2026, 4, 15)) == 3
    assert await economy.materialise_due(coop.id, date(2026, 4, 15)) == 0
    occurrences = await economy.schedules.occurrences(coop.id, view.schedule.id)
    assert [period for period, _ in occurrences] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31),
    ]  # fmt: skip
    entry = await ledger.get_entry(coop.id, occurrences[1][1])
    assert (entry.effective_date, entry.description) == (date(2026, 2, 28), "Monthly dues")
    assert await economy.materialise_due(coop.id, date(2026, 5, 1)) == 1
    bank = await account(ledger, coop, "Assets:Bank")
    assert (await ledger.balance(coop.id, bank.id)).posted == 4 * 2_500
    read = await economy.schedules.get(coop.id, view.schedule.id)
    assert (read.materialised, read.last_period, read.next_period) == (
        4, date(2026, 4, 30), date(2026, 5, 31),
    )  # fmt: skip


async def test_pause_resume_and_end(
    ledger: Ledger, economy: Economy, coop: Community, clock: Clock
) -> None:
    schedule_id = (await _dues(ledger, economy, coop)).schedule.id
    assert await economy.materialise_due(coop.id, date(2026, 2, 1)) == 1
    clock.set_day(date(2026, 2, 10))
    paused = await economy.schedules.pause(coop.id, schedule_id)
    assert paused.schedule.status == "paused"
    with pytest.raises(ScheduleNotActive):
        await economy.schedules.pause(coop.id, schedule_id)
    assert await economy.materialise_due(coop.id, date(2026, 4, 10)) == 0
    clock.set_day(date(2026, 4, 10))
    resumed = await economy.schedules.resume(coop.id, schedule_id)
    assert (resumed.schedule.status, resumed.next_period) == ("active", date(2026, 4, 30))
    with pytest.raises(ScheduleNotPaused):
        await economy.schedules.resume(coop.id, schedule_id)
    # February and March fell in the pause: skipped, not caught up.
    assert await economy.materialise_due(coop.id, date(2026, 5, 1)) == 1
    clock.set_day(date(2026, 5, 2))
    ended = await economy.schedules.end(coop.id, schedule_id)
    assert (ended.schedule.status, ended.schedule.end_date, ended.next_period) == (
        "ended", date(2026, 5, 2), None,
    )  # fmt: skip
    assert await economy.materialise_due(coop.id, date(2027, 1, 1)) == 0
    with pytest.raises(ScheduleEnded):
        await economy.schedules.resume(coop.id, schedule_id)
    periods = [p for p, _ in await economy.schedules.occurrences(coop.id, schedule_id)]
    assert periods == [date(2026, 1, 31), date(2026, 4, 30)]
    with pytest.raises(ScheduleNotFound):
        await economy.schedules.pause(coop.id, new_id())


async def test_a_rejected_occurrence_is_tried_again_next_run(
    ledger: Ledger, economy: Economy, coop: Community
) -> None:
    # A standing transfer out of the emergency fund (floor 0) fails until money is there.
    fund = await account(ledger, coop, "Assets:EmergencyFund")
    food = await account(ledger, coop, "Expenses:Food")
    spec = NewSchedule("Food share", food.id, fund.id, 1_000, Frequency.MONTHLY, date(2026, 3, 1))
    schedule = await economy.schedules.create(coop.id, spec)
    result = await economy.schedules.materialise(coop.id, date(2026, 3, 5))
    assert result.created == 0
    assert [(f.period, f.code) for f in result.failures] == [(date(2026, 3, 1), "limit_exceeded")]
    bank = await account(ledger, coop, "Assets:Bank")
    standing = NewSchedule(
        "Into the fund", fund.id, bank.id, 5_000, Frequency.MONTHLY, date(2026, 3, 2)
    )
    await economy.schedules.create(coop.id, standing)
    # Schedules run in the order they were made: the food share fails once more, then the
    # standing transfer fills the fund, and the next run writes the food share.
    assert await economy.materialise_due(coop.id, date(2026, 3, 6)) == 1
    assert await economy.materialise_due(coop.id, date(2026, 3, 6)) == 1
    periods = [p for p, _ in await economy.schedules.occurrences(coop.id, schedule.schedule.id)]
    assert periods == [date(2026, 3, 1)]


async def test_bad_schedules_are_refused(ledger: Ledger, economy: Economy, coop: Community) -> None:
    bank = await account(ledger, coop, "Assets:Bank")
    pool = await account(ledger, coop, "Equity:HoursPool")
    day = date(2026, 6, 1)
    with pytest.raises(errors.InvalidInput):  # two commodities
        await economy.schedules.create(
            coop.id, NewSchedule("x", bank.id, pool.id, 1, Frequency.MONTHLY, day)
        )
    with pytest.raises(errors.InvalidAmount):
        await economy.schedules.create(
            coop.id, NewSchedule("x", bank.id, pool.id, 0, Frequency.MONTHLY, day)
        )
    with pytest.raises(errors.InvalidInput):
        await economy.schedules.create(
            coop.id, NewSchedule("x", bank.id, bank.id, 1, Frequency.MONTHLY, day)
        )
    with pytest.raises(errors.AccountNotFound):
        await economy.schedules.create(
            coop.id, NewSchedule("x", bank.id, new_id(), 1, Frequency.MONTHLY, day)
        )
    with pytest.raises(errors.InvalidInput):
        await _dues(ledger, economy, coop, start=day, end=day - timedelta(days=1))


def _crashing_store() -> type[SqlEconomyStore]:
    calls = 0

    class CrashingStore(SqlEconomyStore):
        """Dies like a killed process right after the second occurrence's entry is written."""

        async def insert_occurrence(self, *args: Any, **kwargs: Any) -> bool:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise RuntimeError("power cut")
            return await super().insert_occurrence(*args, **kwargs)

    return CrashingStore


async def test_a_rerun_after_a_crash_writes_the_rest_once(
    ledger: Ledger, economy: Economy, coop: Community, engine: AsyncEngine, clock: Clock
) -> None:
    schedule_id = (await _dues(ledger, economy, coop)).schedule.id
    crashing = Economy(SqlUnitOfWorkFactory(engine), _crashing_store().of, clock)
    with pytest.raises(RuntimeError):
        await crashing.materialise_due(coop.id, date(2026, 6, 1))
    assert len(await _scheduled_entries(ledger, coop)) == 1  # the second rolled back whole
    assert await economy.materialise_due(coop.id, date(2026, 6, 1)) == 4
    entries = await _scheduled_entries(ledger, coop)
    assert len(entries) == len(set(entries)) == 5
    assert len(await economy.schedules.occurrences(coop.id, schedule_id)) == 5


async def test_two_runners_at_once_write_each_period_once(
    ledger: Ledger, coop: Community, database_url: str, clock: Clock
) -> None:
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        runners = [Economy(SqlUnitOfWorkFactory(e), SqlEconomyStore.of, clock) for e in engines]
        for frequency in Frequency:
            await _dues(ledger, runners[0], coop, frequency=frequency, start=date(2026, 1, 1))
        today, created = date(2026, 6, 30), 0
        for _ in range(3):
            runs = [runner.materialise_due(coop.id, today) for runner in runners * 2]
            created += sum(await asyncio.gather(*runs))
            last, today = today, today + timedelta(days=45)
        entries = await _scheduled_entries(ledger, coop)
        assert len(entries) == len(set(entries))  # never twice
        expected = sum(len(_oracle(f, date(2026, 1, 1), last)) for f in Frequency)
        assert len(entries) == created == expected
    finally:
        for engine in engines:
            await engine.dispose()


def _oracle(frequency: Frequency, start: date, today: date) -> list[date]:
    """The schedule's dates by brute force: every day checked on its own."""
    found, day = [], start
    while day <= today:
        months = (day.year - start.year) * 12 + day.month - start.month
        last_day = calendar.monthrange(day.year, day.month)[1]
        if frequency is Frequency.WEEKLY:
            hit = (day - start).days % 7 == 0
        else:
            step = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}[frequency]
            hit = months % step == 0 and day.day == min(start.day, last_day)
        if hit:
            found.append(day)
        day += timedelta(days=1)
    return found


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    frequency=st.sampled_from(Frequency),
    start=st.dates(date(2024, 1, 1), date(2026, 6, 1)),
    runs=st.lists(st.integers(0, 150), min_size=1, max_size=4),
)
async def test_occurrences_are_exactly_the_schedules_dates(
    ledger: Ledger, economy: Economy, frequency: Frequency, start: date, runs: list[int]
) -> None:
    coop, _ = await economy.charts.create_community(unique_slug(), "Co-op", template="coop")
    view = await _dues(ledger, economy, coop, frequency=frequency, start=start)
    today, written = start - timedelta(days=3), 0
    for step in runs:  # runs on later and later days, some on the same day again
        today += timedelta(days=step)
        written += await economy.materialise_due(coop.id, today)
    periods = [p for p, _ in await economy.schedules.occurrences(coop.id, view.schedule.id)]
    assert periods == _oracle(frequency, start, today)
    assert written == len(periods)


def test_months_are_added_with_the_day_clamped() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), 2) == date(2026, 3, 31)
