"""The balance read's statement goes straight to asyncpg on PostgreSQL
(``ledger.store.alone``) and reads exactly what SQLAlchemy reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType
from ledger.store import SqlUnitOfWorkFactory


@contextmanager
def statements_through_sqlalchemy(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_the_driver_reads_the_account_as_sqlalchemy_does(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    community = await ledger.create_community(f"alone-{uuid.uuid4().hex[:8]}", "Alone")
    account = await ledger.open_account(
        community.id,
        NewAccount("Liabilities:Ann", "Ann", AccountType.LIABILITY, "HOURS", balance_min=-600),
    )
    units = SqlUnitOfWorkFactory(engine)
    async with units(write=False) as uow:  # a snapshot: through SQLAlchemy
        expected = await uow.repo.get_account(community.id, account.id)
    with statements_through_sqlalchemy(engine) as seen:
        async with units(write=False, snapshot=False) as uow:
            alone = await uow.repo.get_account(community.id, account.id)
            missing = await uow.repo.get_account(community.id, uuid.uuid4())
    assert seen == []
    assert alone == expected == account
    assert alone is not None and alone.created_at.tzinfo is not None
    assert missing is None
    balance = await ledger.account_balance(community.id, account.id)
    assert balance == (account, account.balance)


@pytest.mark.parametrize("engine_name", ["postgresql"])
async def test_a_broken_connection_is_left_to_sqlalchemy(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    community = await ledger.create_community(f"alone-{uuid.uuid4().hex[:8]}", "Alone")
    account = await ledger.open_account(
        community.id, NewAccount("Assets:Cash", "Cash", AccountType.ASSET, "HOURS")
    )
    units = SqlUnitOfWorkFactory(engine)
    async with units(write=False, snapshot=False) as uow:
        raw = await uow.connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.close()  # as a database restart leaves it
        with pytest.raises(DBAPIError) as raised:
            await uow.repo.get_account(community.id, account.id)
    # SQLAlchemy saw the disconnect (the API answers 503 ``database_unavailable``) …
    assert raised.value.connection_invalidated
    # … and the next read gets a working connection.
    assert await ledger.account_balance(community.id, account.id) == (account, account.balance)
