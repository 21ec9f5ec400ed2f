"""A write's unit of work in one greenlet instead of one greenlet per statement.

SQLAlchemy's asyncio layer runs every ``AsyncConnection.execute`` in a greenlet of its own
(``greenlet_spawn``): a new greenlet, a switch into it, a switch out and back at each wait for
the driver, and its end — about a quarter of SQLAlchemy's Python per statement on these
machines (measured: 290 against 220 µs of CPU for a one-row SELECT through ``execute`` and
through ``run_sync``, the machine loaded), and a write runs ten statements, most of them while
its community's audit chain is locked.

:func:`run_whole` drives a unit of work's coroutine to its end inside *one* greenlet, and
:class:`WholeConnection` (the connection every unit of work opens, ``ledger.store.uow``) runs a
statement made from that greenlet at once, as ``AsyncConnection.run_sync`` runs a sync function:
SQLAlchemy's synchronous ``Connection.execute``, which waits for the driver through the
greenlet's parent, the event loop. The same store and use-case code runs, with the same engine,
pool, events, compiled-statement cache and dialect; a statement made from anywhere else (a read,
a task the unit of work started) is SQLAlchemy's own ``execute``.

Whatever else the unit of work waits for (a lock, a sleep) is waited for on the loop, and its
result or exception — a cancellation too — goes back to the coroutine where it waited, as the
loop's task would send it (``tests/store/test_one_greenlet.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from greenlet import getcurrent
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.asyncio import exc as async_exc
from sqlalchemy.util.concurrency import await_only, greenlet_spawn

T = TypeVar("T")


class WholeConnection(AsyncConnection):
    """An ``AsyncConnection`` that runs a statement made from inside :func:`run_whole` at once,
    in that greenlet."""

    __slots__ = ("_driver",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._driver: object | None = None

    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> CursorResult[Any]:
        if self._driver is None or getcurrent() is not self._driver:
            result: CursorResult[Any] = await super().execute(
                statement, parameters, execution_options=execution_options
            )
            return result
        result = self._proxied.execute(statement, parameters, execution_options=execution_options)
        if result.context._is_server_side:  # as AsyncConnection.execute refuses one
            result.close()
            raise async_exc.AsyncMethodRequired("a server-side cursor needs stream()")
        return result


async def run_whole(connection: AsyncConnection, work: Awaitable[T]) -> T:
    """Runs ``work`` (a unit of work's coroutine on ``connection``) to its end in one greenlet;
    on a connection other than a :class:`WholeConnection`, as it is."""
    if not isinstance(connection, WholeConnection) or not asyncio.iscoroutine(work):
        return await work
    result: T = await greenlet_spawn(_drive, connection, work)
    return result


def _drive(connection: WholeConnection, coroutine: Coroutine[Any, Any, T]) -> T:
    connection._driver = getcurrent()
    try:
        return _to_end(coroutine)
    finally:
        connection._driver = None


def _to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """Steps ``coroutine`` as the loop's task would: each thing it waits for is waited for on
    the loop (through this greenlet's parent), and its outcome sent or thrown back."""
    value: Any = None
    throw = False
    while True:
        try:
            waited = coroutine.throw(value) if throw else coroutine.send(value)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            value, throw = await_only(_settled(waited)), False
        except BaseException as exc:  # every outcome goes back to the coroutine
            value, throw = exc, True


async def _settled(waited: Any) -> None:
    """Waits on the loop for what a coroutine yielded to its task: a future (the coroutine reads
    its result itself when resumed) or nothing (``asyncio.sleep(0)``: one turn of the loop)."""
    if waited is None:
        await asyncio.sleep(0)
        return
    waited._asyncio_future_blocking = False
    await waited
