"""The periodic job runner: one run per (community, job, period), on both engines, under
concurrent workers, after a crash and after failures."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.jobs.runner import LEASE, MAX_ATTEMPTS, Job, JobRunner, RunStatus, retry_delay
from ledger.kernel.model import Community
from ledger.store.jobs import SqlJobClaims

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A job body that notes each run; it fails while ``failures`` lasts."""

    def __init__(self, periods: list[str], failures: int = 0, pause: float = 0.0) -> None:
        self.runs: Counter[tuple[str, str]] = Counter()
        self.periods = periods
        self.failures = failures
        self.pause = pause

    def job(self, name: str = "tally") -> Job:
        async def run(community: Community, period: str) -> str:
            await asyncio.sleep(self.pause)
            if self.failures:
                self.failures -= 1
                raise RuntimeError("the printer is on fire")
            self.runs[(community.slug, period)] += 1
            return f"tallied {period}"

        return Job(name, lambda _now: self.periods, run)


def runner(engine: AsyncEngine, job: Job, clock: Clock, worker: str) -> JobRunner:
    return JobRunner(SqlJobClaims(engine), [job], clock=clock, worker=worker)


async def test_concurrent_workers_run_each_period_once(
    engine: AsyncEngine, community: Community
) -> None:
    recorder = Recorder(["2026-10", "2026-Q3", "2025"], pause=0.02)
    clock = Clock()
    workers = [runner(engine, recorder.job(), clock, f"worker-{n}") for n in range(4)]
    passes = await asyncio.gather(*(w.run_due(community=community.slug) for w in workers))
    assert recorder.runs == Counter({(community.slug, p): 1 for p in recorder.periods})
    assert sorted(o.period for outcomes in passes for o in outcomes) == sorted(recorder.periods)
    # Later passes, by any worker, find nothing due.
    assert await workers[0].run_due(community=community.slug) == []
    runs = await SqlJobClaims(engine).list_runs(community.id, limit=10)
    assert {(r.period, r.status, r.attempts, r.outcome) for r in runs} == {
        (p, RunStatus.DONE, 1, f"tallied {p}") for p in recorder.periods
    }


async def test_a_run_whose_worker_died_is_taken_over_after_its_lease(
    engine: AsyncEngine, community: Community
) -> None:
    claims = SqlJobClaims(engine)
    clock = Clock()
    # A worker claimed the run and died without finishing it.
    assert await claims.claim(community.id, "tally", "2026-10", "dead", clock.now)
    recorder = Recorder(["2026-10"])
    survivor = runner(engine, recorder.job(), clock, "survivor")
    assert await survivor.run_due(community=community.slug) == []  # its lease still holds
    clock.now += LEASE + timedelta(seconds=1)
    [outcome] = await survivor.run_due(community=community.slug)
    assert outcome.status is RunStatus.DONE
    assert recorder.runs == Counter({(community.slug, "2026-10"): 1})
    [run] = await claims.list_runs(community.id, limit=5)
    assert (run.worker, run.attempts, run.status) == ("survivor", 2, RunStatus.DONE)
    # The dead worker coming back cannot overwrite its successor's record.
    await claims.finish(
        community.id, "tally", "2026-10", "dead", clock.now, outcome="late", failed=True
    )
    [run] = await claims.list_runs(community.id, limit=5)
    assert (run.status, run.outcome) == (RunStatus.DONE, "tallied 2026-10")


async def test_failures_are_retried_with_backoff_then_given_up(
    engine: AsyncEngine, community: Community
) -> None:
    recorder = Recorder(["2026-10"], failures=MAX_ATTEMPTS)
    clock = Clock()
    worker = runner(engine, recorder.job(), clock, "w")
    [first] = await worker.run_due(community=community.slug)
    assert first.status is RunStatus.FAILED
    assert first.detail == "RuntimeError: the printer is on fire"
    assert await worker.run_due(community=community.slug) == []  # not before its retry time
    for attempt in range(2, MAX_ATTEMPTS + 1):
        clock.now += retry_delay(attempt - 1)
        [outcome] = await worker.run_due(community=community.slug)
        assert outcome.status is RunStatus.FAILED
    clock.now += timedelta(days=30)
    assert await worker.run_due(community=community.slug) == []  # given up for good
    [run] = await SqlJobClaims(engine).list_runs(community.id, limit=5)
    assert (run.status, run.attempts) == (RunStatus.FAILED, MAX_ATTEMPTS)
    assert recorder.runs == Counter()


async def test_a_retry_that_succeeds_is_done(engine: AsyncEngine, community: Community) -> None:
    recorder = Recorder(["2026-10"], failures=1)
    clock = Clock()
    worker = runner(engine, recorder.job(), clock, "w")
    [failed] = await worker.run_due(community=community.slug)
    clock.now += retry_delay(1)
    [done] = await worker.run_due(community=community.slug)
    assert (failed.status, done.status) == (RunStatus.FAILED, RunStatus.DONE)
    assert recorder.runs == Counter({(community.slug, "2026-10"): 1})


def test_retry_delays_grow_and_are_bounded() -> None:
    delays = [retry_delay(n) for n in range(1, 20)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delays == sorted(delays) and delays[-1] == timedelta(days=1)


async def test_jobs_and_communities_can_be_singled_out(
    engine: AsyncEngine, community: Community
) -> None:
    clock = Clock()
    a, b = Recorder(["x"]), Recorder(["y"])
    worker = JobRunner(SqlJobClaims(engine), [a.job("a"), b.job("b")], clock=clock, worker="w")
    assert worker.job_names == ["a", "b"]
    [outcome] = await worker.run_due(job="b", community=community.slug)
    assert (outcome.job, a.runs, b.runs) == ("b", Counter(), Counter({(community.slug, "y"): 1}))
    assert await worker.run_due(community="no-such-community") == []
    with pytest.raises(ValueError, match="no job is called 'c'"):
        await worker.run_due(job="c")


@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_an_advisory_lock_keeps_a_second_worker_off_a_run_in_progress(
    engine: AsyncEngine, community: Community
) -> None:
    """A run outliving its lease is not started again while its first worker still holds the
    run's advisory lock (PostgreSQL)."""
    claims = SqlJobClaims(engine)
    clock = Clock()
    assert await claims.claim(community.id, "tally", "2026-10", "slow", clock.now)
    clock.now += LEASE * 2  # the claim's lease has run out, the slow worker is still at it
    recorder = Recorder(["2026-10"])
    other = runner(engine, recorder.job(), clock, "other")
    async with claims.exclusive(community.id, "tally", "2026-10") as held:
        assert held
        assert await other.run_due(community=community.slug) == []
    [outcome] = await other.run_due(community=community.slug)  # the lock is free again
    assert outcome.status is RunStatus.DONE
