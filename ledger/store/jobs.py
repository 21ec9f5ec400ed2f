"""SQL of the job runner's claims (``ledger.jobs.runner``): one ``job_runs`` row per run."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.jobs.runner import LEASE, MAX_ATTEMPTS, JobRun, RunStatus, retry_delay
from ledger.kernel.model import Community
from ledger.store.engine import WRITE_OPTION
from ledger.store.tables import communities, job_runs

_OUTCOME_MAX = 500


class SqlJobClaims:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads only (on SQLite a deferred BEGIN, taking no write lock)."""
        async with self._engine.connect() as conn:
            await conn.execution_options(**{WRITE_OPTION: False})
            yield conn

    async def communities(self) -> Sequence[Community]:
        async with self._reading() as conn:
            rows = await conn.execute(sa.select(communities).order_by(communities.c.slug))
            return [Community(row.id, row.slug, row.name, row.created_at) for row in rows]

    async def settled(self, community_id: uuid.UUID, job: str, periods: Sequence[str]) -> set[str]:
        if not periods:
            return set()
        runs = job_runs.c
        async with self._reading() as conn:
            rows = await conn.execute(
                sa.select(runs.period, runs.status, runs.attempts, runs.lease_until).where(
                    runs.community_id == community_id,
                    runs.job == job,
                    runs.period.in_(periods),
                )
            )
            # Only "done" and "given up" are final; the rest are tried by ``claim``, which
            # decides under its own transaction whether a lease or retry time has passed.
            return {
                row.period
                for row in rows
                if row.status == RunStatus.DONE
                or (row.status == RunStatus.FAILED and row.attempts >= MAX_ATTEMPTS)
            }

    async def claim(
        self, community_id: uuid.UUID, job: str, period: str, worker: str, now: datetime
    ) -> bool:
        runs = job_runs.c
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        async with self._engine.begin() as conn:
            created = await conn.execute(
                insert(job_runs)
                .values(
                    community_id=community_id,
                    job=job,
                    period=period,
                    status=RunStatus.RUNNING,
                    attempts=1,
                    worker=worker,
                    claimed_at=now,
                    lease_until=now + LEASE,
                )
                .on_conflict_do_nothing()
            )
            if created.rowcount == 1:
                return True
            # Taken over: a run whose worker died (lease over) or a failed one whose retry time
            # came, as one conditional UPDATE — of two workers trying, exactly one matches.
            taken = await conn.execute(
                sa.update(job_runs)
                .where(
                    runs.community_id == community_id,
                    runs.job == job,
                    runs.period == period,
                    runs.status.in_([RunStatus.RUNNING, RunStatus.FAILED]),
                    runs.lease_until <= now,
                    runs.attempts < MAX_ATTEMPTS,
                )
                .values(
                    status=RunStatus.RUNNING,
                    attempts=runs.attempts + 1,
                    worker=worker,
                    claimed_at=now,
                    lease_until=now + LEASE,
                    finished_at=None,
                )
            )
            return taken.rowcount == 1

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
        runs = job_runs.c
        async with self._engine.begin() as conn:
            attempts = (
                await conn.execute(
                    sa.select(runs.attempts).where(
                        runs.community_id == community_id, runs.job == job, runs.period == period
                    )
                )
            ).scalar_one()
            values: dict[str, object] = {"finished_at": now, "outcome": outcome[:_OUTCOME_MAX]}
            if failed:
                values |= {"status": RunStatus.FAILED, "lease_until": now + retry_delay(attempts)}
            else:
                values |= {"status": RunStatus.DONE}
            await conn.execute(
                sa.update(job_runs)
                .where(
                    runs.community_id == community_id,
                    runs.job == job,
                    runs.period == period,
                    # A worker whose claim was taken over must not overwrite its successor's.
                    runs.worker == worker,
                )
                .values(**values)
            )

    @asynccontextmanager
    async def exclusive(
        self, community_id: uuid.UUID, job: str, period: str
    ) -> AsyncIterator[bool]:
        if self._dialect != "postgresql":
            # SQLite serialises writers anyway; the claim's lease is the only guard needed.
            yield True
            return
        key = _lock_key(community_id, job, period)
        async with self._engine.connect() as conn:
            held = bool((await conn.execute(sa.select(sa.func.pg_try_advisory_lock(key)))).scalar())
            await conn.commit()
            try:
                yield held
            finally:
                if held:
                    await conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    await conn.commit()

    async def list_runs(
        self, community_id: uuid.UUID, *, after: tuple[str, str] | None = None, limit: int
    ) -> Sequence[JobRun]:
        runs = job_runs.c
        query = sa.select(job_runs).where(runs.community_id == community_id)
        if after is not None:
            query = query.where(sa.tuple_(runs.job, runs.period) > sa.tuple_(*after))
        async with self._reading() as conn:
            rows = await conn.execute(query.order_by(runs.job, runs.period).limit(limit))
            return [
                JobRun(
                    community_id=row.community_id,
                    job=row.job,
                    period=row.period,
                    status=RunStatus(row.status),
                    attempts=row.attempts,
                    worker=row.worker,
                    claimed_at=row.claimed_at,
                    lease_until=row.lease_until,
                    finished_at=row.finished_at,
                    outcome=row.outcome,
                )
                for row in rows
            ]


def _lock_key(community_id: uuid.UUID, job: str, period: str) -> int:
    """A signed 64-bit advisory-lock key for one run."""
    digest = hashlib.blake2b(f"job:{community_id}:{job}:{period}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
