"""The service's bounds reach both engines (issue 18, H2): on SQLite a request waits for a
pooled connection as long as the settings say, not the pool's default 30 s; on PostgreSQL a
transaction left idle is ended by the server."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ledger.store import DatabaseTimeouts, SqlUnitOfWorkFactory, create_engine


async def test_a_waiter_gives_up_at_the_configured_pool_timeout(database_url: str) -> None:
    timeouts = DatabaseTimeouts(pool_s=1)
    engine = create_engine(database_url, timeouts=timeouts, pool_size=1, max_overflow=0)
    uow = SqlUnitOfWorkFactory(engine)
    try:
        async with uow(write=False):
            # The pool's own 30 s would outlast the 10 s given here (a plain TimeoutError).
            with pytest.raises(sa_exc.TimeoutError):
                await asyncio.wait_for(uow(write=False).__aenter__(), 10)
    finally:
        await engine.dispose()


async def test_postgres_sessions_carry_the_idle_transaction_bound(
    postgresql_database_url: str,
) -> None:
    timeouts = DatabaseTimeouts(idle_in_transaction_ms=4_000)
    engine = create_engine(postgresql_database_url, timeouts=timeouts)
    try:
        async with engine.connect() as conn:
            shown = await conn.scalar(sa.text("SHOW idle_in_transaction_session_timeout"))
        assert shown == "4s"
    finally:
        await engine.dispose()
