"""Reads that may come from a PostgreSQL streaming replica (hot standby), never staler than the
request that asks for them.

The composition root hands this factory to the readers whose queries are long and need not run
on the primary — reports and exports — so that a year's report does not take CPU from the
writers. Writes (``write=True``) always go to the primary.

**Never staler than the request.** Before a read unit of work starts, the factory asks the
primary for its WAL flush position (``pg_current_wal_flush_lsn()``: with synchronous commit,
PostgreSQL's default and the service's, every commit acknowledged so far lies at or before it)
and waits until the standby has replayed that far (``pg_last_wal_replay_lsn()``), then opens the
unit on the standby, whose snapshot therefore holds every write acknowledged before the read
began — the writer's own last request included, whichever worker process served it. Nothing is
remembered per client, so several workers and processes need nothing shared.

If the standby has not caught up within ``wait_s``, the read runs on the primary: it is never
served stale. If the standby cannot be reached, or is no standby (``pg_last_wal_replay_lsn()`` is
NULL on a primary, e.g. after a failover promoted it), reads go to the primary for
``retry_after_s`` before it is tried again, so a dead standby costs one failed connection per
interval, not one per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Final, Self

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.store.repository import SqlRepository
from ledger.store.uow import CheckoutQueue, SqlUnitOfWork, SqlUnitOfWorkFactory

log = structlog.get_logger(__name__)

POLL_S: Final = 0.002
"""How often a read waiting for the standby asks how far it has replayed."""

_CAUGHT_UP = text("SELECT pg_last_wal_replay_lsn() >= CAST(:target AS pg_lsn)")


class ServedBy(StrEnum):
    """Where a read unit of work ran, for the metrics."""

    REPLICA = "replica"
    PRIMARY = "primary"
    """The standby was behind, away or no standby: the read ran on the primary."""


class ReplicaUnitOfWork(SqlUnitOfWork):
    """A read unit of work that runs on the standby once it has replayed every write
    acknowledged before the unit began, else on the primary."""

    def __init__(self, reads: ReplicaUnitOfWorkFactory, *, snapshot: bool) -> None:
        super().__init__(
            reads.engine,
            write=False,
            snapshot=snapshot,
            repository_class=reads.repository_class,
            queue=reads.primary_queue,
        )
        self._reads = reads

    async def __aenter__(self) -> Self:
        if await self._reads.replica_caught_up():
            self._engine, self._queue = self._reads.replica, self._reads.replica_queue
            try:
                entered = await super().__aenter__()
            except (DBAPIError, OSError, TimeoutError) as failure:
                self._reads.replica_failed(failure)
                self._engine, self._queue = self._reads.engine, self._reads.primary_queue
            else:
                self._reads.observe(ServedBy.REPLICA)
                return entered
        self._reads.observe(ServedBy.PRIMARY)
        return await super().__aenter__()


class ReplicaUnitOfWorkFactory(SqlUnitOfWorkFactory):
    """Write units of work on the primary (``engine``), read units on ``replica`` when it has
    caught up with the primary (see the module's docstring)."""

    def __init__(
        self,
        engine: AsyncEngine,
        replica: AsyncEngine,
        *,
        wait_s: float = 0.5,
        retry_after_s: float = 30.0,
        observe: Callable[[ServedBy], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
        repository_class: type[SqlRepository] = SqlRepository,
    ) -> None:
        assert engine.dialect.name == replica.dialect.name == "postgresql", "a PostgreSQL standby"
        super().__init__(engine, repository_class)
        self.replica = replica
        self.replica_queue = CheckoutQueue.of(replica)
        self.observe = observe
        self._wait_s = wait_s
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._skip_until = float("-inf")

    @property
    def repository_class(self) -> type[SqlRepository]:
        return self._repository_class

    @property
    def primary_queue(self) -> CheckoutQueue | None:
        return self._queue

    def __call__(self, *, write: bool, snapshot: bool = True) -> SqlUnitOfWork:
        if write:
            return super().__call__(write=True, snapshot=snapshot)
        return ReplicaUnitOfWork(self, snapshot=snapshot)

    async def replica_caught_up(self) -> bool:
        """Whether the standby has replayed every write the primary acknowledged so far,
        waiting up to ``wait_s`` for it; False at once while the standby is set aside."""
        if self._clock() < self._skip_until:
            return False
        async with self.engine.connect() as primary:
            # A primary that cannot answer fails here, with the errors every request handles.
            await primary.execution_options(isolation_level="AUTOCOMMIT")
            target = (await primary.execute(text("SELECT pg_current_wal_flush_lsn()"))).scalar()
        deadline = self._clock() + self._wait_s
        try:
            async with self.replica.connect() as replica:
                await replica.execution_options(isolation_level="AUTOCOMMIT")
                while True:
                    caught_up = (await replica.execute(_CAUGHT_UP, {"target": target})).scalar()
                    if caught_up is None:
                        self._set_aside("the replica is not a standby (it is not replaying WAL)")
                        return False
                    if caught_up:
                        return True
                    if self._clock() >= deadline:
                        # Behind for now (a burst of writes): this read goes to the primary,
                        # the next one tries the standby again.
                        return False
                    await asyncio.sleep(POLL_S)
        except (DBAPIError, OSError, TimeoutError) as failure:
            self.replica_failed(failure)
            return False

    def replica_failed(self, failure: BaseException) -> None:
        self._set_aside(f"the replica cannot be reached: {failure.__class__.__name__}")

    def _set_aside(self, why: str) -> None:
        self._skip_until = self._clock() + self._retry_after_s
        log.warning("replica set aside", reason=why, retry_after_s=self._retry_after_s)
