"""The periodic jobs this service runs, wired to their use cases, and the loop that runs them.

The same :class:`~ledger.jobs.runner.JobRunner` serves the app's background loop (every
``COMMONS_LEDGER_JOBS_INTERVAL_S``) and ``commons-ledger run-jobs`` (once, for cron or a systemd
timer); their claims make it safe to use both at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

from ledger.economy.service import Economy
from ledger.governance.fund import EmergencyFund
from ledger.governance.service import Governance
from ledger.jobs.runner import Job, JobRunner
from ledger.kernel.model import Community
from reports.errors import SnapshotExists
from reports.period import Period
from reports.service import Reports
from reports.snapshots import closed_periods


def snapshot_job(reports: Reports) -> Job:
    """At each close of a month, quarter and year: the community's report, stored once."""

    def periods(now: datetime) -> Sequence[str]:
        return [period.label for period in closed_periods(now.date())]

    async def run(community: Community, label: str) -> str:
        period = Period.parse(label)
        first = await reports.first_entry_date(community)
        if first is None or period.end < first:
            return "no entry is dated in or before the period; no snapshot"
        try:
            row = await reports.take_snapshot(community, period)
        except SnapshotExists:
            return "a snapshot of the period exists already"
        return f"snapshot {row.id} (fingerprint {row.fingerprint[:12]})"

    return Job("report-snapshots", periods, run)


def disbursement_deadline_job(fund: EmergencyFund) -> Job:
    """Every hour: emergency-fund requests past their deadline are voided, releasing what they
    reserved (an approval after the deadline is refused at once, whenever this runs)."""

    def periods(now: datetime) -> Sequence[str]:
        return [now.strftime("%Y-%m-%dT%H")]

    async def run(community: Community, _: str) -> str:
        expired = await fund.expire_overdue(community.id, datetime.now(UTC))
        return f"{expired} overdue requests voided"

    return Job("disbursement-deadlines", periods, run)


def recurring_entries_job(economy: Economy) -> Job:
    """Every day: the recurring entries (dues, rent shares, standing transfers) due by that day,
    each written once — also those missed while no job ran."""

    def periods(now: datetime) -> Sequence[str]:
        return [now.date().isoformat()]

    async def run(community: Community, day: str) -> str:
        written = await economy.materialise_due(community.id, date.fromisoformat(day))
        return f"{written} recurring entries written"

    return Job("recurring-entries", periods, run)


def service_jobs(reports: Reports, governance: Governance, economy: Economy) -> list[Job]:
    return [
        snapshot_job(reports),
        disbursement_deadline_job(governance.fund),
        recurring_entries_job(economy),
    ]


@asynccontextmanager
async def running_in_background(runner: JobRunner, interval_s: int) -> AsyncIterator[None]:
    """Runs due jobs every ``interval_s`` seconds while the block lasts (0: never)."""
    if interval_s <= 0:
        yield
        return
    task = asyncio.create_task(runner.run_forever(interval_s), name="commons-ledger-jobs")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
