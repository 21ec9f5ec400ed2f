"""The periodic job runs of a community, for its treasurers: what ran, when, and what failed."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from api.http.common.auth import requires
from api.http.common.openapi import COMMUNITY, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.schemas import JobRunOut, Page
from ledger.access.principals import Scope
from ledger.jobs.runner import JobRunner
from ledger.kernel.model import Community


@get(
    "/jobs",
    summary="Runs of the periodic jobs (report snapshots …), by job and period (treasurers)",
    description=(
        "One item per (job, period) the runner claimed: `done`, `running` (its `lease_until` "
        "is when another worker may take it over) or `failed` (`outcome` holds the error; it "
        "is retried at `lease_until`, at most 5 attempts)."
    ),
    responses=problems(*COMMUNITY, 403),
    guards=[requires(Scope.TREASURER)],
    tags=["jobs"],
)
async def list_job_runs(
    community: NamedDependency[Community],
    jobs: NamedDependency[JobRunner],
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> Page[JobRunOut]:
    after = decode_cursor(cursor, tuple[str, str])
    found = await jobs.runs(community.id, after=after, limit=limit + 1)
    return page_of(found, limit, JobRunOut.of, lambda run: [run.job, run.period])


COMMUNITY_HANDLERS = [list_job_runs]
"""Handlers under ``/communities/{slug}``."""
