"""The service's periodic jobs: the snapshot job, ``commons-ledger run-jobs`` and the app's
background loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.cli.main import main
from api.jobs import snapshot_job
from api.settings import Settings
from ledger.books.service import Ledger
from ledger.jobs.runner import RunStatus
from ledger.kernel.model import Community, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.jobs import SqlJobClaims
from ledger.store.scoped import connection_of
from reports.service import Reports
from tests.api.conftest import ADMIN_TOKEN, make_tenant
from tests.databases import migrate, sqlite_url


async def test_the_snapshot_job_stores_a_closed_period_once(
    engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    reports = Reports(SqlUnitOfWorkFactory(engine), connection_of)
    job = snapshot_job(reports)
    assert job.periods(datetime(2026, 11, 24, tzinfo=UTC)) == ["2026-10", "2026-Q3", "2025"]
    # Empty books get no (empty) snapshot.
    assert await job.run(community, "2026-10") == (
        "no entry is dated in or before the period; no snapshot"
    )
    # History may predate the community's creation (an import, a back-dated entry).
    ann, bob = [await ledger.create_member(community.id, name) for name in ("Ann", "Bob")]
    postings = (PostingSpec(ann.hours_account_id, 60), PostingSpec(bob.hours_account_id, -60))
    await ledger.post_entry(
        community.id, NewEntry(postings, description="help", effective_date=date(2026, 9, 15))
    )
    assert (await job.run(community, "2026-Q3")).startswith("snapshot ")
    assert await job.run(community, "2026-Q3") == "a snapshot of the period exists already"
    assert "no snapshot" in await job.run(community, "2025")
    [row] = await reports.list_snapshots(community)
    assert (row.period_start, row.period_end) == (date(2026, 7, 1), date(2026, 9, 30))


def test_run_jobs_runs_what_is_due_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", sqlite_url(tmp_path / "jobs.db"))
    assert main(["create-community", "hollow", "Hollow"]) == 0
    capsys.readouterr()
    assert main(["run-jobs", "--community", "hollow"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if line.startswith("hollow report-snapshots ")]) == 3
    [deadlines] = [line for line in lines if line.startswith("hollow disbursement-deadlines ")]
    assert deadlines.endswith("done — 0 overdue requests voided")
    [recurring] = [line for line in lines if line.startswith("hollow recurring-entries ")]
    assert recurring.endswith("done — 0 recurring entries written")
    assert lines[-1] == "5 runs, 0 failed."
    # (The deadline job's period is the hour, so only the snapshots are sure to be settled.)
    assert main(["run-jobs", "--job", "report-snapshots"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Nothing was due."]
    assert main(["run-jobs", "--job", "polish-the-silver"]) == 2
    assert "the jobs are: disbursement-deadlines, recurring-entries, report-snapshots" in (
        capsys.readouterr().out
    )


async def test_the_app_runs_due_jobs_in_the_background(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "loop.db")
    await migrate(url)
    app = create_app(Settings(database_url=url, jobs_interval_s=1))
    services = app.state.services
    community = await services.ledger.create_community("loop", "Loop")
    claims = SqlJobClaims(services.engine)
    async with AsyncTestClient(app):
        for _ in range(600):  # up to 30 s on a loaded machine
            runs = await claims.list_runs(community.id, limit=10)
            if len(runs) == 5 and all(run.status is RunStatus.DONE for run in runs):
                break
            await asyncio.sleep(0.05)
    assert {(run.job, run.status) for run in runs} == {
        ("disbursement-deadlines", RunStatus.DONE),
        ("recurring-entries", RunStatus.DONE),
        ("report-snapshots", RunStatus.DONE),
    }
    assert len(runs) == 5


async def test_treasurers_page_through_the_job_runs(
    engine: AsyncEngine, ledger: Ledger, database_url: str
) -> None:
    app = create_app(Settings(database_url=database_url, admin_token=ADMIN_TOKEN))
    async with AsyncTestClient(app) as client:
        tenant = await make_tenant(client)
        community = await ledger.get_community_by_slug(tenant.slug)
        claims = SqlJobClaims(engine)
        now = datetime.now(UTC)
        for period in ("2026-08", "2026-09", "2026-10"):
            assert await claims.claim(community.id, "report-snapshots", period, "w", now)
        await claims.finish(
            community.id, "report-snapshots", "2026-09", "w", now, outcome="boom", failed=True
        )
        first = await client.get(f"{tenant.base}/jobs?limit=2", headers=tenant.treasurer)
        assert first.status_code == 200, first.text
        body = first.json()
        assert [(i["period"], i["status"]) for i in body["items"]] == [
            ("2026-08", "running"),
            ("2026-09", "failed"),
        ]
        assert body["items"][1]["outcome"] == "boom"
        rest = await client.get(
            f"{tenant.base}/jobs?limit=2&cursor={body['next_cursor']}", headers=tenant.treasurer
        )
        assert [i["period"] for i in rest.json()["items"]] == ["2026-10"]
        assert rest.json()["next_cursor"] is None
