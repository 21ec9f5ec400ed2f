"""The unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction
from sqlalchemy.util import greenlet_spawn

from ledger.store.engine import WRITE_OPTION
from ledger.store.one_greenlet import WholeConnection, run_whole
from ledger.store.repository import SqlRepository
from ledger.store.sqlite_thread import hand_off

T = TypeVar("T")


class CheckoutQueue:
    """Hands the pool's connections to units of work in the order they asked.

    SQLAlchemy's async queue pool lets a newcomer take a connection that was just returned for a
    waiter who has not run yet; the waiter then queues again at the back. Under more concurrent
    requests than connections (32 readers and 8 writers on 15) a few waited out the pool
    timeout and answered 503 while others were served at once. Units of work queue here first,
    first come first served (asyncio's semaphore lets no newcomer pass a waiter), holding at
    most as many places as the pool has connections, so they rarely wait in the pool itself.
    Waiting longer than the pool timeout raises the pool's own ``TimeoutError``."""

    def __init__(self, places: int, timeout_s: float) -> None:
        self._places = asyncio.Semaphore(places)
        self._timeout_s = timeout_s

    @classmethod
    def of(cls, engine: AsyncEngine) -> CheckoutQueue | None:
        """For a pool with a bounded number of connections, else None."""
        pool: Any = engine.pool
        size, overflow = getattr(pool, "size", None), getattr(pool, "_max_overflow", None)
        if size is None or overflow is None or overflow < 0:
            return None
        return cls(size() + overflow, float(getattr(pool, "_timeout", 30)))

    async def enter(self) -> None:
        if not self._places.locked():
            await self._places.acquire()  # a free place: taken without waiting
            return
        try:
            await asyncio.wait_for(self._places.acquire(), self._timeout_s)
        except TimeoutError:
            raise sa_exc.TimeoutError(
                f"no database connection became free within {self._timeout_s:g} s"
            ) from None

    def leave(self) -> None:
        self._places.release()


class SqlUnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        write: bool,
        snapshot: bool = True,
        repository_class: type[SqlRepository] = SqlRepository,
        write_lock: asyncio.Lock | None = None,
        queue: CheckoutQueue | None = None,
    ) -> None:
        self._engine = engine
        self._queue = queue
        self._queued = False
        self._write = write
        self._snapshot = snapshot
        self._repository_class = repository_class
        self._write_lock = write_lock if write else None
        self._holds_lock = False
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._committed = False
        self.repo: SqlRepository

    async def __aenter__(self) -> Self:
        if self._alone():
            # A PostgreSQL read of one statement: no transaction, so nothing to begin.
            self._bind(await self._open(alone=True))
            return self
        connection = await self._open()
        try:
            await self._start(connection)
        except BaseException:
            await self._close(connection)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            await self._finish()
        finally:
            await self._close(self._connection)

    async def whole(self, work: Callable[[Self], Awaitable[T]]) -> T:
        """``work`` in this unit of work as ``async with`` runs it, with the transaction —
        BEGIN, every statement, COMMIT or ROLLBACK — handed to SQLite's connection thread in one
        piece (``ledger.store.sqlite_thread``). The pool and the queues stay on the loop."""
        connection = await self._open()
        try:
            raw = await connection.get_raw_connection()
            return await hand_off(raw.driver_connection, self._inside(connection, work))
        finally:
            await self._close(connection)

    async def _inside(self, connection: AsyncConnection, work: Callable[[Self], Awaitable[T]]) -> T:
        await self._start(connection)
        try:
            return await run_whole(connection, work(self))
        finally:
            await self._finish()

    def _alone(self) -> bool:
        """Whether this is a read of one statement on PostgreSQL, which runs outside any
        transaction: a single statement is its own snapshot, and without BEGIN and ROLLBACK it
        costs one round trip instead of three. (SQLite's BEGIN is in-process.)"""
        return not self._write and not self._snapshot and self._engine.dialect.name == "postgresql"

    async def _open(self, *, alone: bool = False) -> AsyncConnection:
        """Takes this process's write lock (a write on SQLite), a place in the checkout queue
        and a connection (``alone``: in autocommit, :meth:`_connect_alone`)."""
        if self._write_lock is not None:
            await self._write_lock.acquire()
            self._holds_lock = True
        try:
            if self._queue is not None:
                await self._queue.enter()
                self._queued = True
            if alone:
                return AsyncConnection(self._engine, await greenlet_spawn(self._connect_alone))
            # Statements of a write run in one greenlet (``ledger.store.one_greenlet``).
            return await WholeConnection(self._engine)
        except BaseException:
            self._release()
            raise

    def _connect_alone(self) -> Connection:
        """A pooled connection in autocommit, taken and set in one hand-off to SQLAlchemy's
        greenlet (``engine.connect()``, ``execution_options()`` and ``begin()`` took one each,
        ≈ 190 µs of CPU a read; ``docs/performance.md``). Setting the isolation level sends
        nothing to the server (asyncpg's adapter only marks the connection), and the pool
        restores the engine's level when the connection comes back, again without a round trip:
        the adapter rolls back only a transaction it began, and in autocommit it begins none."""
        connection = self._engine.sync_engine.connect()
        try:
            return connection.execution_options(
                isolation_level="AUTOCOMMIT", **{WRITE_OPTION: False}
            )
        except BaseException:
            connection.close()
            raise

    async def _start(self, connection: AsyncConnection) -> None:
        options: dict[str, object] = {WRITE_OPTION: self._write}
        if not self._write and connection.dialect.name == "postgresql":
            # One snapshot for every statement of a read, as SQLite's deferred BEGIN gives (a
            # read of one statement runs alone instead: :meth:`_alone`).
            options |= {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        await connection.execution_options(**options)
        self._transaction = await connection.begin()
        self._bind(connection)

    def _bind(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self.repo = self._repository_class(connection)

    async def _finish(self) -> None:
        """Rolls back what was not committed."""
        if self._transaction is None:
            return
        if not self._committed and self._transaction.is_active:
            await self._transaction.rollback()

    async def _close(self, connection: AsyncConnection) -> None:
        # The transaction is over: the next writer may begin while the pool takes this
        # connection back (on SQLite a reset that is one more hand-off to its thread).
        self._unlock()
        try:
            await connection.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._queued:
            assert self._queue is not None
            self._queued = False
            self._queue.leave()
        self._unlock()

    def _unlock(self) -> None:
        if self._holds_lock:
            assert self._write_lock is not None
            self._holds_lock = False
            self._write_lock.release()

    @property
    def connection(self) -> AsyncConnection:
        """The unit of work's connection, in its transaction: the domain never reads it; the
        feature stores and the report queries reach it through ``ledger.store.scoped``'s
        ``connection_of``."""
        assert self._connection is not None, "enter the unit of work first"
        return self._connection

    async def commit(self) -> None:
        assert self._transaction is not None and not self._committed, "commit once"
        await self._transaction.commit()
        self._committed = True


class SqlUnitOfWorkFactory:
    """Opens units of work on one engine; ``repository_class`` lets tests swap the SQL.

    On SQLite, write units of work of this process also queue on an asyncio lock before taking
    the database's write lock: SQLite's busy handler polls with growing sleeps, which makes
    waiting writers slow and unfair (seconds at p99 with 16 writers), while the in-process queue
    hands the lock over at once. Other processes still queue on the busy timeout."""

    def __init__(
        self, engine: AsyncEngine, repository_class: type[SqlRepository] = SqlRepository
    ) -> None:
        self.engine = engine
        self._repository_class = repository_class
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._queue = CheckoutQueue.of(engine)

    def __call__(self, *, write: bool, snapshot: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine,
            write=write,
            snapshot=snapshot,
            repository_class=self._repository_class,
            write_lock=self._write_lock,
            queue=self._queue,
        )

    async def run_write(self, work: Callable[[SqlUnitOfWork], Awaitable[T]]) -> T:
        """``work`` in one write unit of work (``ledger.kernel.uow.run_write``), in one piece."""
        return await self._in_one_piece(self(write=True), work)

    async def run_read(
        self, work: Callable[[SqlUnitOfWork], Awaitable[T]], *, snapshot: bool = True
    ) -> T:
        """``work`` in one read unit of work (``ledger.kernel.uow.run_read``), in one piece as a
        write is: on SQLite a balance read was nine hand-offs to the connection's thread, each a
        wake-up of that thread and a turn at the GIL against the loop."""
        return await self._in_one_piece(self(write=False, snapshot=snapshot), work)

    async def _in_one_piece(
        self, unit: SqlUnitOfWork, work: Callable[[SqlUnitOfWork], Awaitable[T]]
    ) -> T:
        """On SQLite the whole transaction is one hand-off to the connection's thread; on
        PostgreSQL asyncpg speaks to the server from the loop itself, and ``work`` runs here,
        its statements in one greenlet (``ledger.store.one_greenlet``; a read of one statement
        alone, outside any transaction, runs as it is)."""
        if self.engine.dialect.name == "sqlite":
            return await unit.whole(work)
        async with unit:
            return await run_whole(unit.connection, work(unit))
