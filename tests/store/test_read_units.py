"""Read units of work: a snapshot for several statements; a single statement alone on PostgreSQL
(no BEGIN, no ROLLBACK: one round trip)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.store import SqlUnitOfWorkFactory

_ACCOUNTS = text("SELECT count(*) FROM accounts")


async def _in_transaction_block(connection: AsyncConnection) -> bool:
    """After a statement: whether the server says the connection is inside BEGIN … (asyncpg
    reads it from the server's ReadyForQuery status)."""
    await connection.execute(_ACCOUNTS)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    return bool(driver.is_in_transaction())


# PostgreSQL only: SQLite's BEGIN is in-process and costs no round trip, and its deferred BEGIN
# gives the snapshot.
@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_a_single_statement_read_is_its_own_transaction(engine: AsyncEngine) -> None:
    units = SqlUnitOfWorkFactory(engine)
    async with units(write=False, snapshot=False) as uow:
        assert not await _in_transaction_block(uow.connection)


@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_a_read_keeps_one_read_only_snapshot_by_default(engine: AsyncEngine) -> None:
    units = SqlUnitOfWorkFactory(engine)
    async with units(write=False) as uow:
        assert await _in_transaction_block(uow.connection)
        settings = text(
            "SELECT current_setting('transaction_isolation'), "
            "current_setting('transaction_read_only')"
        )
        assert tuple((await uow.connection.execute(settings)).one()) == ("repeatable read", "on")
    # The connection goes back to the pool as it came: the next single read is alone again.
    async with units(write=False, snapshot=False) as uow:
        assert not await _in_transaction_block(uow.connection)
