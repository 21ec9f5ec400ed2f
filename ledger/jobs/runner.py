"""The periodic job runner: work that falls due with time (report snapshots at a period's close,
recurring entries, deadlines), run once per community, job and period.

A job names the periods due at a moment (``2026-10`` for a monthly snapshot, ``2026-11-24`` for
a daily one) and runs one of them for one community. Each run is *claimed* first: a row keyed
``(community, job, period)`` that only one worker can take, so a run that finished is never
repeated, however many workers (the app's loop, ``commons-ledger run-jobs`` from cron) run at
once. A claim carries a lease: a worker that dies mid-run leaves a claim that expires, and the
next pass takes it over — which is why every job must itself be safe to run again (they are:
snapshots refuse a second copy, recurring entries carry one idempotency key per period). On
PostgreSQL an advisory lock held for the run keeps a second worker from starting a run whose
lease ran out while the first is still at it. A run that fails is retried with a growing delay,
up to :data:`MAX_ATTEMPTS` times; its error stays on the claim for the operator.

Guarantees (tests/ledger/test_jobs.py): one run per (community, job, period) under concurrent
workers on both engines; a crashed run is taken over after its lease; failures are retried with
backoff, then given up; a finished run is never repeated.
"""

from __future__ import annotations

import asyncio
import enum
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

import structlog

from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.model import Community

MAX_ATTEMPTS: Final = 5
LEASE: Final = timedelta(minutes=15)
"""How long a claimed run may take before another worker may assume its worker died."""
_log = structlog.get_logger("commons_ledger.jobs")


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, at most a day."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(days=1))


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    periods: Callable[[datetime], Sequence[str]]
    """The periods due at a moment (every one that may still lack its run)."""
    run: Callable[[Community, str], Awaitable[str]]
    """Does the work of one period for one community; returns a line saying what it did."""


@dataclass(frozen=True, slots=True)
class JobRun:
    community_id: uuid.UUID
    job: str
    period: str
    status: RunStatus
    attempts: int
    worker: str
    claimed_at: datetime
    lease_until: datetime
    """While running: when the claim may be taken over. After a failure: the next attempt."""
    finished_at: datetime | None
    outcome: str | None
    """What the run did, or the error of its last attempt."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one pass did with one run it claimed."""

    community: str
    job: str
    period: str
    status: RunStatus
    detail: str


class JobClaims(Protocol):
    """The claims' storage. Each call is its own short transaction."""

    async def communities(self) -> Sequence[Community]: ...

    async def settled(self, community_id: uuid.UUID, job: str, periods: Sequence[str]) -> set[str]:
        """The periods among ``periods`` that need no run now: done, given up, or claimed by
        a live worker."""
        ...

    async def claim(
        self, community_id: uuid.UUID, job: str, period: str, worker: str, now: datetime
    ) -> bool:
        """Takes the run for ``worker`` unless it finished, is held under a live lease, waits
        for its retry time, or failed :data:`MAX_ATTEMPTS` times."""
        ...

    async def finish(
        self,
        community_id: uuid.UUID,
        job: str,
        period: str,
        worker: str,
        now: datetime,
        *,
        outcome: str,
        failed: bool,
    ) -> None:
        """Records the attempt's end: done, or failed (``outcome`` is then the error)."""
        ...

    def exclusive(
        self, community_id: uuid.UUID, job: str, period: str
    ) -> AbstractAsyncContextManager[bool]:
        """Holds a lock that only one worker can hold for this run (True when taken)."""
        ...

    async def list_runs(
        self, community_id: uuid.UUID, *, after: tuple[str, str] | None = None, limit: int
    ) -> Sequence[JobRun]:
        """The community's runs by (job, period), those after ``after`` only."""
        ...


class JobRunner:
    def __init__(
        self,
        claims: JobClaims,
        jobs: Sequence[Job],
        clock: Clock = utc_now,
        worker: str | None = None,
    ) -> None:
        self._claims = claims
        self._jobs = {job.name: job for job in jobs}
        self._clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def runs(
        self, community_id: uuid.UUID, *, after: tuple[str, str] | None = None, limit: int
    ) -> Sequence[JobRun]:
        return await self._claims.list_runs(community_id, after=after, limit=limit)

    @property
    def job_names(self) -> list[str]:
        return sorted(self._jobs)

    async def run_due(
        self, *, job: str | None = None, community: str | None = None
    ) -> list[Outcome]:
        """Runs every due run this worker can claim, one after another; of one job and one
        community (by slug) when given."""
        if job is not None and job not in self._jobs:
            raise ValueError(f"no job is called {job!r}; jobs: {', '.join(self.job_names)}")
        outcomes: list[Outcome] = []
        for found in await self._claims.communities():
            if community is not None and found.slug != community:
                continue
            for name in sorted(self._jobs) if job is None else [job]:
                outcomes += await self._run_job(found, self._jobs[name])
        return outcomes

    async def _run_job(self, community: Community, job: Job) -> list[Outcome]:
        periods = list(job.periods(self._clock()))
        settled = await self._claims.settled(community.id, job.name, periods)
        outcomes = []
        for period in periods:
            if period in settled:
                continue
            async with self._claims.exclusive(community.id, job.name, period) as held:
                if not held:
                    continue
                outcome = await self._run_once(community, job, period)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    async def _run_once(self, community: Community, job: Job, period: str) -> Outcome | None:
        claims = self._claims
        if not await claims.claim(community.id, job.name, period, self.worker, self._clock()):
            return None
        log = _log.bind(community=community.slug, job=job.name, period=period)
        try:
            detail = await job.run(community, period)
        except Exception as exc:  # any failure is recorded and retried later
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("job failed", error=error)
            await claims.finish(
                community.id,
                job.name,
                period,
                self.worker,
                self._clock(),
                outcome=error,
                failed=True,
            )
            return Outcome(community.slug, job.name, period, RunStatus.FAILED, error)
        await claims.finish(
            community.id, job.name, period, self.worker, self._clock(), outcome=detail, failed=False
        )
        log.info("job done", detail=detail)
        return Outcome(community.slug, job.name, period, RunStatus.DONE, detail)

    async def run_forever(self, interval_s: float) -> None:
        """Runs due jobs, then again every ``interval_s`` (±10 %, so that several workers drift
        apart), until cancelled. A pass that fails — the database away, say — is logged and the
        next pass tries again."""
        while True:
            try:
                await self.run_due()
            except Exception:  # the loop must outlive a bad pass
                _log.exception("job pass failed")
            await asyncio.sleep(interval_s * random.uniform(0.9, 1.1))  # noqa: S311 - jitter
