"""Another process's transaction that holds a lock the service needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite
import asyncpg
from sqlalchemy.engine import make_url


@asynccontextmanager
async def holding_account(database_url: str, account_id: str) -> AsyncIterator[None]:
    """Another process's transaction holding the account's row lock (on SQLite, the write
    lock) until the block ends."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        async with aiosqlite.connect(url.database or "", isolation_level=None) as sqlite:
            await sqlite.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                await sqlite.execute("ROLLBACK")
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        async with connection.transaction():
            await connection.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account_id)
            yield
    finally:
        await connection.close()
