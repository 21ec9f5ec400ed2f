"""Many writers at once on PostgreSQL: no lost update, no limit breached, no deadlock.

The same workload and checks also run against ``NaiveRepository`` (read-then-write without row
locks), which must fail them — proof that these checks can see a lost update.
"""

from __future__ import annotations

import pytest

from ledger.store.repository import SqlRepository
from tests.store.naive import NaiveRepository
from tests.store.workload import COUNTERS, Workload, check, run_workload

pytestmark = pytest.mark.postgres_only

WORKLOAD = Workload(workers=16, entries_per_worker=200, engines=2)

# Without limits nothing stops the naive writers early, so lost updates dominate the failures.
NAIVE_WORKLOAD = Workload(
    workers=16,
    entries_per_worker=100,
    engines=2,
    hours_limits=(None, None),
    eur_limits=(None, None),
)


async def test_concurrent_writers_keep_every_invariant(postgresql_database_url: str) -> None:
    report = await run_workload(
        postgresql_database_url, SqlRepository, WORKLOAD, label="postgres-locked"
    )
    print("\n" + report.summary())

    check(report)  # no violation, and no error but LedgerErrors: no deadlock, no 40001
    assert report.unexpected_types == {}
    # The workload really did what it is meant to exercise.
    assert report.rejections["limit_exceeded"] > 0
    assert all(report.completions[done] > 0 for done in ("posted", "voided", "reversed"))
    assert report.replays > 0 and report.races > 0
    assert report.reads >= 20
    assert len(report.acknowledged) >= WORKLOAD.workers * WORKLOAD.entries_per_worker // 4


async def test_the_checks_catch_lost_updates_of_a_naive_repository(
    postgresql_database_url: str,
) -> None:
    report = await run_workload(
        postgresql_database_url, NaiveRepository, NAIVE_WORKLOAD, label="postgres-naive"
    )
    print("\n" + report.summary())

    with pytest.raises(AssertionError):
        check(report)
    assert report.violation_kinds()[COUNTERS] > 0, "no lost update was detected"
