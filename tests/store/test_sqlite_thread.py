"""A write's unit of work in one piece (``ledger.kernel.uow.run_write``): on SQLite the whole
transaction is one hand-off to the connection's thread (``ledger.store.sqlite_thread``), on
PostgreSQL it runs in place; either way it commits or rolls back whole, as ``async with`` does."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.ports import UnitOfWork
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, IdempotencyKey
from ledger.kernel.uow import run_write
from ledger.store import SqlUnitOfWorkFactory
from tests.conftest import unique_slug
from tests.ledger.test_service import members, transfer

ACTOR: contextvars.ContextVar[str] = contextvars.ContextVar("actor", default="nobody")


@contextmanager
def queued_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The calls the event loop queues to aiosqlite's connection threads inside the block."""
    calls: list[str] = []
    queue: Any = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not self._thread:
            calls.append(getattr(fn, "__name__", repr(fn)))
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    yield calls


@pytest.mark.parametrize("engine_name", ["sqlite"])
async def test_a_transfer_is_one_hand_off_on_sqlite(
    ledger: Ledger, community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await members(ledger, community, None, None)
    key = IdempotencyKey("api_key:x", "one-hand-off")
    with queued_calls(monkeypatch) as calls:
        await ledger.post_entry(
            community.id, transfer(alice.hours_account_id, bob.hours_account_id, 30), key
        )
    # The transaction, and the pool's reset of the connection when it is returned. Statement
    # by statement through SQLAlchemy's adapter it was 42.
    assert len(calls) <= 2, calls


@pytest.mark.parametrize("engine_name", ["sqlite"])
async def test_a_balance_read_is_one_hand_off_on_sqlite(
    ledger: Ledger, community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await members(ledger, community, None, None)
    await ledger.post_entry(
        community.id, transfer(alice.hours_account_id, bob.hours_account_id, 30)
    )
    today = datetime.now(UTC).date()
    with queued_calls(monkeypatch) as calls:
        now = await ledger.balance(community.id, bob.hours_account_id)
        now_calls = list(calls)
        then = await ledger.balance(community.id, bob.hours_account_id, as_of=today)
        as_of_calls = calls[len(now_calls) :]
    # Each: the transaction, and the pool's reset of the connection. Call by call the first
    # was 9 hand-offs; the figures are the same either way.
    assert len(now_calls) <= 2, now_calls
    assert len(as_of_calls) <= 2, as_of_calls
    assert now.posted == then.posted != 0


@pytest.mark.parametrize("engine_name", ["sqlite"])
async def test_the_statements_run_on_the_connection_thread(
    engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    alice, bob = await members(ledger, community, None, None)
    threads: set[threading.Thread] = set()

    def record(*_: Any) -> None:
        threads.add(threading.current_thread())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await ledger.post_entry(
            community.id, transfer(alice.hours_account_id, bob.hours_account_id, 30)
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert threads and threading.current_thread() not in threads


def _community(name: str) -> Community:
    return Community(uuid.uuid4(), unique_slug(name), name.title(), datetime.now(UTC))


async def test_run_write_commits_once_and_carries_the_callers_context(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    written = _community("written")
    ACTOR.set("treasurer")

    async def work(uow: UnitOfWork) -> str:
        await uow.repo.insert_community(written)
        await uow.commit()
        return ACTOR.get()

    assert await run_write(units, work) == "treasurer"
    assert (await ledger.get_community(written.id)).slug == written.slug


async def test_run_write_rolls_back_what_was_not_committed(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    left_out = _community("left-out")

    async def work(uow: UnitOfWork) -> None:
        await uow.repo.insert_community(left_out)
        raise LookupError("the use case failed")

    with pytest.raises(LookupError):
        await run_write(units, work)
    with pytest.raises(errors.CommunityNotFound):
        await ledger.get_community(left_out.id)


@pytest.mark.parametrize("engine_name", ["sqlite"])
async def test_a_unit_of_work_that_waits_for_anything_else_is_refused_and_rolled_back(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    left_out = _community("waiting")

    async def work(uow: UnitOfWork) -> None:
        await uow.repo.insert_community(left_out)
        await asyncio.sleep(0)  # no event loop on the database's thread
        await uow.commit()

    with pytest.raises(RuntimeError, match="waited for something other than its connection"):
        await run_write(units, work)
    with pytest.raises(errors.CommunityNotFound):
        await ledger.get_community(left_out.id)
