"""SQLite's database thread: a whole unit of work in one hand-off instead of one per statement.

aiosqlite runs each SQLite connection on a thread of its own and hands it every call from the
event loop through a queue, waiting for the answer on a future. Through SQLAlchemy a statement is
three or four such calls (cursor, execute, fetch, close), so a transfer's dozen statements were
some forty round trips between two threads, each paying a wake-up on both sides and a turn at the
GIL against every other request the loop is serving — while the transaction held SQLite's one
write lock (42 hand-offs for a keyed transfer; issue 20 measured about 340 transfers/s at 8
clients on a quiet machine).

Here the same async code runs on the connection's own thread instead: :func:`hand_off` queues one
call that drives the unit of work's coroutine to its end there, and :class:`ThreadConnection`
(the aiosqlite connection every SQLite engine opens, ``ledger.store.engine``) runs a call made
from its own thread at once instead of queueing it behind itself. SQLAlchemy above it is
unchanged: the same engine, pool, events, compiled-statement cache and dialect run the same
statements, only on the connection's thread; the pool and the write queue stay on the loop.

A coroutine driven here must wait for nothing but this connection: there is no event loop on this
thread. :func:`run_to_end` refuses, with a ``RuntimeError``, a coroutine that waits for anything
else, after closing it (its unit of work rolls back) (``tests/store/test_sqlite_thread.py``).
"""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

ITER_CHUNK_SIZE = 64
"""Rows per hand-off when a result is iterated from the loop (aiosqlite's default)."""


class ThreadConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs a call made on its own thread at once."""

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if threading.current_thread() is self._thread:
            if not self._running or self._connection is None:
                raise ValueError("Connection closed")
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call,no-any-return]


async def open_connection(database: str | bytes, **kwargs: Any) -> ThreadConnection:
    """What ``aiosqlite.connect(database, **kwargs)`` opens, as a :class:`ThreadConnection`.

    Its thread is a daemon, as SQLAlchemy makes aiosqlite's: a connection left open never keeps
    the process from exiting."""
    location = database.decode() if isinstance(database, bytes) else str(database)
    connection = ThreadConnection(partial(sqlite3.connect, location, **kwargs), ITER_CHUNK_SIZE)
    connection._thread.daemon = True
    await connection  # starts the thread and opens the database on it
    return connection


def run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs ``coroutine`` to its end on this thread, which it must do without waiting."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError(
        "a unit of work on SQLite's database thread waited for something other than its "
        "connection: only statements may be awaited there"
    )


async def hand_off(connection: object, coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs ``coroutine`` on the thread of ``connection`` (a driver's connection), in one
    hand-off, in the caller's context (the audit actor, the request id of the log lines); on
    any other connection than a :class:`ThreadConnection`, here."""
    if not isinstance(connection, ThreadConnection):
        return await coroutine
    context = contextvars.copy_context()
    return await connection._execute(context.run, run_to_end, coroutine)
