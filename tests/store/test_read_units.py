"""Read units of work: a snapshot for several statements; a single statement alone on PostgreSQL
(no BEGIN, no ROLLBACK: one round trip), on a connection that goes back to the pool as it came,
sees every committed write and survives the server ending it."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.engine import create_engine
from tests.conftest import unique_slug

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


async def _one_connection(database_url: str) -> AsyncEngine:
    """An engine whose pool holds one connection, so every unit of work reuses it."""
    return create_engine(database_url, pool_size=1, max_overflow=0)


@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_a_connection_comes_back_from_a_read_alone_as_it_went(database_url: str) -> None:
    """The read alone sets autocommit on a pooled connection without a round trip; the pool
    must give the next unit the engine's level, inside a transaction of its own."""
    engine = await _one_connection(database_url)
    units = SqlUnitOfWorkFactory(engine)
    try:
        async with units(write=False, snapshot=False) as uow:
            assert not await _in_transaction_block(uow.connection)
        async with units(write=True) as uow:
            assert await _in_transaction_block(uow.connection)
            level = text("SELECT current_setting('transaction_isolation')")
            assert (await uow.connection.execute(level)).scalar_one() == "read committed"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_a_read_alone_sees_a_write_committed_on_another_connection(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    community = await ledger.create_community(unique_slug("alone"), "Alone")
    account = await ledger.open_account(
        community.id, NewAccount("Assets:Cash", "Cash", AccountType.ASSET, "HOURS")
    )
    rename = text("UPDATE accounts SET name = 'Till' WHERE community_id = :c AND id = :a")
    units = SqlUnitOfWorkFactory(engine)
    async with units(write=True) as writer:
        await writer.connection.execute(rename, {"c": community.id, "a": account.id})
        await writer.commit()
        # The writer still holds its connection: the read takes another, right after.
        assert (await ledger.get_account(community.id, account.id)).name == "Till"


@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_a_connection_killed_under_a_read_alone_fails_once_then_recovers(
    database_url: str,
) -> None:
    """The server ends the read's connection (a restart, an administrator): that read fails as
    a disconnect (the API answers 503), the pool drops the connection, the next read works."""
    engine = await _one_connection(database_url)
    ledger = Ledger(SqlUnitOfWorkFactory(engine))
    try:
        community = await ledger.create_community(unique_slug("killed"), "Killed")
        account = await ledger.open_account(
            community.id, NewAccount("Assets:Cash", "Cash", AccountType.ASSET, "HOURS")
        )
        async with engine.connect() as victim:
            pid = (await victim.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        dsn = make_url(database_url).set(drivername="postgresql")
        killer = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await killer.close()
        with pytest.raises(DBAPIError) as raised:
            await ledger.account_balance(community.id, account.id)
        assert raised.value.connection_invalidated
        assert await ledger.account_balance(community.id, account.id) == (
            account,
            account.balance,
        )
    finally:
        await engine.dispose()
