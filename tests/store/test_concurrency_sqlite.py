"""Several engines writing one SQLite file at once: no "database is locked", no lost update.

Each engine is a separate pool of connections, as separate processes would be; writes queue on
``BEGIN IMMEDIATE`` and the busy timeout instead of failing when a read lock cannot upgrade.
"""

from __future__ import annotations

from pathlib import Path

from ledger.store import create_engine
from ledger.store.migrate import upgrade
from ledger.store.repository import SqlRepository
from tests.databases import sqlite_url
from tests.store.workload import Workload, check, run_workload

WORKLOAD = Workload(workers=8, entries_per_worker=50, engines=4)


async def _fresh_database(path: Path) -> str:
    url = sqlite_url(path)
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def test_several_engines_write_one_file_without_locking_errors(tmp_path: Path) -> None:
    url = await _fresh_database(tmp_path / "ledger.db")
    report = await run_workload(url, SqlRepository, WORKLOAD, label="sqlite-engines")
    print("\n" + report.summary())

    assert not any("OperationalError" in name for name in report.unexpected_types), (
        report.unexpected[:10]
    )
    check(report)
    assert report.unexpected_types == {}
    assert report.rejections["limit_exceeded"] > 0
    assert all(report.completions[done] > 0 for done in ("posted", "voided", "reversed"))
    assert report.replays > 0
    assert report.reads >= 5
