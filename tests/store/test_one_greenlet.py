"""A write's statements run in one greenlet (``ledger.store.one_greenlet``), on both engines,
and a unit of work that waits for something else than its connection still waits on the loop,
gets what it waited for (a result, an exception, a cancellation) and rolls back unless it
committed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from greenlet import getcurrent
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.ports import UnitOfWork
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, IdempotencyKey
from ledger.kernel.uow import run_write
from ledger.store import SqlUnitOfWorkFactory
from tests.ledger.test_service import members, transfer
from tests.store.test_sqlite_thread import _community


@contextmanager
def statement_greenlets(engine: AsyncEngine) -> Iterator[list[object]]:
    """The greenlet each statement run inside the block ran in (but SQLite's BEGIN, which its
    engine's ``begin`` listener runs when the transaction starts)."""
    seen: list[object] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(getcurrent())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_transfers_statements_share_one_greenlet(
    ledger: Ledger, community: Community, engine: AsyncEngine
) -> None:
    a, b = await members(ledger, community, None, None)
    spec = transfer(a.hours_account_id, b.hours_account_id, 30)
    with statement_greenlets(engine) as seen:
        await ledger.post_entry(community.id, spec, IdempotencyKey("client", "k-1"))
    assert len(seen) >= 6  # the claim, the lock, the insert, the counters, the audit append…
    assert len(set(map(id, seen))) == 1


@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_a_unit_of_work_waits_on_the_loop_for_anything_else(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    written, failed = _community("waits"), _community("fails")
    loop = asyncio.get_running_loop()

    async def work(uow: UnitOfWork) -> int:
        await asyncio.sleep(0)
        ready: asyncio.Future[int] = loop.create_future()
        loop.call_later(0.01, ready.set_result, 7)
        value = await ready
        await uow.repo.insert_community(written)
        broken: asyncio.Future[int] = loop.create_future()
        loop.call_soon(broken.set_exception, LookupError("elsewhere"))
        try:
            await broken
        except LookupError:
            value += 1
        await uow.commit()
        return value

    assert await run_write(units, work) == 8
    assert (await ledger.get_community(written.id)).slug == written.slug

    started = asyncio.Event()

    async def cancelled(uow: UnitOfWork) -> None:
        await uow.repo.insert_community(failed)
        started.set()
        await asyncio.sleep(10)
        await uow.commit()

    task = asyncio.create_task(run_write(units, cancelled))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(errors.CommunityNotFound):
        await ledger.get_community(failed.id)
