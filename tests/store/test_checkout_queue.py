"""Units of work get the pool's connections in the order they asked (``CheckoutQueue``).

More units of work than connections, each asking again as soon as it is done, is what a busy
server does; without the queue the pool let the quick re-askers take every returned connection
and a waiter ran out of its pool timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.engine import POOL_SIZE


@pytest.fixture
async def small_pool(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2, max_overflow=0, pool_timeout=1)
    yield engine
    await engine.dispose()


async def test_every_waiter_is_served_while_others_ask_again_at_once(
    small_pool: AsyncEngine,
) -> None:
    uow = SqlUnitOfWorkFactory(small_pool)
    deadline = time.monotonic() + 3  # three pool timeouts
    served = [0] * 8

    async def client(number: int) -> None:
        while time.monotonic() < deadline:
            async with uow(write=False, snapshot=False) as unit:
                await unit.connection.execute(sa.text("SELECT 1"))
            served[number] += 1

    await asyncio.gather(*(client(number) for number in range(8)))  # no TimeoutError
    assert min(served) > 0, served


async def test_a_waiter_gives_up_after_the_pool_timeout(small_pool: AsyncEngine) -> None:
    uow = SqlUnitOfWorkFactory(small_pool)
    async with uow(write=False) as first, uow(write=False) as second:
        assert first is not second
        started = time.monotonic()
        with pytest.raises(sa_exc.TimeoutError):
            async with uow(write=False):
                pass
        assert 0.9 <= time.monotonic() - started < 5
    async with uow(write=False) as again:  # the places were given back
        await again.connection.execute(sa.text("SELECT 1"))


async def _rush(uow: SqlUnitOfWorkFactory, clients: int, at_once: int) -> None:
    """``clients`` units of work, ``at_once`` of them holding a connection together."""
    all_in = asyncio.Barrier(at_once)

    async def client() -> None:
        async with uow(write=False, snapshot=False) as unit:
            await unit.connection.execute(sa.text("SELECT 1"))
            with contextlib.suppress(TimeoutError):  # the last ones wait for no one
                await asyncio.wait_for(all_in.wait(), 0.5)

    await asyncio.gather(*(client() for _ in range(clients)))


async def test_a_busy_pool_keeps_its_connections_open(database_url: str) -> None:
    """Every connection busy, then all given back, over and over (a steady load): the ones
    opened at first serve every round. With an overflow beyond the pool's kept size, the
    overflow connections were closed at each return and opened again at the next rush (on
    PostgreSQL 10 + 5, on a SQLite file 5 + 10)."""
    engine = create_engine(database_url)
    opened = 0

    def count(*_: object) -> None:
        nonlocal opened
        opened += 1

    sa.event.listen(engine.sync_engine, "connect", count)
    try:
        for _ in range(3):
            await _rush(SqlUnitOfWorkFactory(engine), clients=20, at_once=POOL_SIZE)
        assert opened == POOL_SIZE
    finally:
        await engine.dispose()
