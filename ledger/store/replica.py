"""Reads that may come from a PostgreSQL streaming replica (hot standby), never staler than the
request that asks for them.

The composition root hands this factory to the readers whose queries need not run on the
primary — reports, exports, account statements and the community's figures on the member pages
— so that they do not take CPU from the writers. Writes (``write=True``) always go to the primary.

**Never staler than the request.** Before a read unit of work starts, the factory asks the
primary for its WAL flush position (``pg_current_wal_flush_lsn()``: with synchronous commit,
PostgreSQL's default and the service's, every commit acknowledged so far lies at or before it),
then, on the connection the unit will read on, waits until the standby has replayed that far
(``pg_last_wal_replay_lsn()``) before the unit's transaction (and so its snapshot) begins: the
snapshot holds every write acknowledged before the read began — the writer's own last request
included, whichever worker process served it. Nothing is remembered per client, so several
workers and processes need nothing shared.

**What it costs a short read** (``bench.replica_reads``, docs/operations.md "A read replica"):
one round trip to the primary and one to the standby, both on the driver's connection without
SQLAlchemy's statement machinery, and the check on the unit's own connection rather than a
second one. Units that ask for the primary's position while a query for it is still waiting for
its connection share that query (:class:`FlushPositions`): it is sent after each of them asked.

If the standby has not caught up within ``wait_s``, the read runs on the primary: it is never
served stale. If the standby cannot be reached, or is no standby (no longer in recovery, e.g.
after a failover promoted it), reads go to the primary for ``retry_after_s`` before it is tried
again, so a dead standby costs one failed connection per interval, not one per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final

import asyncpg
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.store.repository import SqlRepository
from ledger.store.uow import CheckoutQueue, SqlUnitOfWork, SqlUnitOfWorkFactory

log = structlog.get_logger(__name__)

POLL_S: Final = 0.002
"""How often a read waiting for the standby asks how far it has replayed."""

_FLUSHED: Final = "SELECT pg_current_wal_flush_lsn()::text"
_CAUGHT_UP: Final = (
    "SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= $1::text::pg_lsn,"
    " pg_is_in_recovery()"
)
UNREACHABLE: Final = (
    DBAPIError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)
"""What a standby that is down, restarting or cut off raises (through SQLAlchemy or the driver)."""


class ServedBy(StrEnum):
    """Where a read unit of work ran, for the metrics."""

    REPLICA = "replica"
    PRIMARY = "primary"
    """The standby was behind, away or no standby: the read ran on the primary."""


async def _driver(connection: AsyncConnection) -> Any:
    """The asyncpg connection under ``connection``: a position check is one round trip without
    SQLAlchemy's statement machinery (about half its Python cost), outside any transaction."""
    return (await connection.get_raw_connection()).driver_connection


class FlushPositions:
    """The primary's WAL flush position, one query for every unit that asked before it was sent.

    A unit may take the answer of a query sent after it asked (the position only grows, so that
    answer covers every commit acknowledged before the unit asked), never of one sent before."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._next: asyncio.Future[str] | None = None
        self._asking: set[asyncio.Task[None]] = set()  # the loop keeps weak references only

    async def current(self) -> str:
        loop = asyncio.get_running_loop()
        if self._next is None or self._next.get_loop() is not loop:  # a loop closed mid-query
            self._next = loop.create_future()
            asking = loop.create_task(self._ask(self._next))
            self._asking.add(asking)
            asking.add_done_callback(self._asking.discard)
        return await asyncio.shield(self._next)

    async def _ask(self, answer: asyncio.Future[str]) -> None:
        try:
            async with self._engine.connect() as primary:
                driver = await _driver(primary)
                # Units asking from here on wait for the next query: this one is sent now.
                self._next = None
                answer.set_result(await driver.fetchval(_FLUSHED))
        except BaseException as failure:  # every waiter fails as its own query would have
            if self._next is answer:
                self._next = None
            cancelled = isinstance(failure, asyncio.CancelledError)
            if not answer.done():  # (answered already when only giving the connection back failed)
                if cancelled:
                    answer.cancel()
                else:
                    answer.set_exception(failure)
                    answer.exception()  # retrieved: no "never retrieved" warning if none waits
            if cancelled:
                raise


class ReplicaUnitOfWork(SqlUnitOfWork):
    """A read unit of work that runs on the standby once it has replayed every write
    acknowledged before the unit began, else on the primary."""

    def __init__(self, reads: ReplicaUnitOfWorkFactory, *, snapshot: bool) -> None:
        super().__init__(
            reads.replica,
            write=False,
            snapshot=snapshot,
            repository_class=reads.repository_class,
            queue=reads.replica_queue,
        )
        self._reads = reads

    async def _open(self, *, alone: bool = False) -> AsyncConnection:
        # A primary that cannot answer fails here, with the errors every request handles.
        target = await self._reads.flush_positions.current()
        if not self._reads.set_aside():
            try:
                connection = await super()._open(alone=alone)
            except UNREACHABLE as failure:
                self._reads.replica_failed(failure)
            else:
                if await self._reads.caught_up(connection, target):
                    self._reads.observe(ServedBy.REPLICA)
                    return connection
                await self._close(connection)
        self._reads.observe(ServedBy.PRIMARY)
        self._engine, self._queue = self._reads.engine, self._reads.primary_queue
        return await super()._open(alone=alone)


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
        self.flush_positions = FlushPositions(engine)
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

    def set_aside(self) -> bool:
        """Whether the standby is set aside for now (down, or no standby, a moment ago)."""
        return self._clock() < self._skip_until

    async def caught_up(self, connection: AsyncConnection, target: str) -> bool:
        """Whether the standby behind ``connection`` has replayed as far as ``target``, waiting
        up to ``wait_s`` for it; asked before the connection's transaction begins, so that the
        snapshot the unit then takes holds everything up to ``target``."""
        deadline = self._clock() + self._wait_s
        try:
            driver = await _driver(connection)
            while True:
                caught, in_recovery = await driver.fetchrow(_CAUGHT_UP, target)
                if not in_recovery:
                    self._set_aside("the replica is not a standby (it is not replaying WAL)")
                    return False
                if caught:
                    return True
                if self._clock() >= deadline:
                    # Behind for now (a burst of writes): this read goes to the primary,
                    # the next one tries the standby again.
                    return False
                await asyncio.sleep(POLL_S)
        except UNREACHABLE as failure:
            self.replica_failed(failure)
            return False

    def replica_failed(self, failure: BaseException) -> None:
        self._set_aside(f"the replica cannot be reached: {failure.__class__.__name__}")

    def _set_aside(self, why: str) -> None:
        self._skip_until = self._clock() + self._retry_after_s
        log.warning("replica set aside", reason=why, retry_after_s=self._retry_after_s)
