"""Report snapshots: taken once per closed period, never overwritten, read back unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.trail import AuditTrail
from ledger.kernel import errors
from ledger.kernel.model import NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.scoped import connection_of
from reports.errors import SnapshotExists, SnapshotNotFound
from reports.period import Period
from reports.service import Reports
from reports.snapshots import closed_periods
from tests.reports.ledgers import fixed_books

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("today", "labels"),
    [
        (date(2026, 11, 24), ["2026-10", "2026-Q3", "2025"]),
        (date(2026, 1, 1), ["2025-12", "2025-Q4", "2025"]),
        (date(2026, 4, 30), ["2026-03", "2026-Q1", "2025"]),
    ],
)
def test_closed_periods(today: date, labels: list[str]) -> None:
    assert [period.label for period in closed_periods(today)] == labels


async def test_a_snapshot_is_taken_once_and_read_back_unchanged(engine: AsyncEngine) -> None:
    units = SqlUnitOfWorkFactory(engine)
    books = await fixed_books(units)
    reports, q3 = Reports(units, connection_of, clock=lambda: NOW), Period.parse("2026-Q3")
    live = await reports.sustainability(books.community, q3)
    taken = await reports.take_snapshot(books.community, q3)
    assert (taken.period_start, taken.period_end) == (q3.start, q3.end)
    *_, recorded = await AuditTrail(units).records(books.community.id, limit=1000)
    assert (recorded.operation, recorded.result_ids) == ("take_snapshot", (str(taken.id),))
    assert taken.fingerprint == live.fingerprint
    with pytest.raises(SnapshotExists):
        await reports.take_snapshot(books.community, q3)
    with pytest.raises(errors.InvalidInput):
        await reports.take_snapshot(books.community, Period.parse("2026-Q4"))  # not closed
    # A late correction of Q3 changes the live report, not the snapshot.
    ann, bob = books.members["Ann"], books.members["Bob"]
    late = NewEntry(
        (PostingSpec(ann.hours_account_id, 15), PostingSpec(bob.hours_account_id, -15)),
        "late", effective_date=date(2026, 9, 30), kind="exchange",
    )  # fmt: skip
    await books.ledger.post_entry(books.community.id, late)
    again = await reports.sustainability(books.community, q3)
    assert again.fingerprint != taken.fingerprint
    assert again.time_bank.minutes_exchanged == live.time_bank.minutes_exchanged + 15
    assert await reports.snapshot(books.community, taken.id) == live
    assert [row.id for row in await reports.list_snapshots(books.community)] == [taken.id]
    with pytest.raises(SnapshotNotFound):
        await reports.snapshot(books.community, books.community.id)


async def test_due_snapshots(engine: AsyncEngine) -> None:
    units = SqlUnitOfWorkFactory(engine)
    books = await fixed_books(units)
    reports = Reports(units, connection_of, clock=lambda: NOW)
    await reports.take_snapshot(books.community, Period.parse("2026-Q3"))
    taken = await reports.take_due_snapshots(books.community, NOW.date())
    assert sorted((row.period_start, row.period_end) for row in taken) == [
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2026, 10, 1), date(2026, 10, 31)),
    ]
    assert await reports.take_due_snapshots(books.community, NOW.date()) == []
    assert len(await reports.list_snapshots(books.community)) == 3


async def test_postgresql_refuses_to_change_a_snapshot(postgresql_database_url: str) -> None:
    engine = create_engine(postgresql_database_url)
    try:
        units = SqlUnitOfWorkFactory(engine)
        books = await fixed_books(units)
        reports = Reports(units, connection_of, clock=lambda: NOW)
        await reports.take_snapshot(books.community, Period.parse("2025"))
        for statement in ("UPDATE report_snapshots SET fingerprint = 'x'",
                          "DELETE FROM report_snapshots"):  # fmt: skip
            with pytest.raises(sa.exc.IntegrityError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(
                        sa.text(f"{statement} WHERE community_id = :c"), {"c": books.community.id}
                    )
    finally:
        await engine.dispose()
