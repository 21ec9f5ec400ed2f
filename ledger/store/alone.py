"""Single-statement reads on PostgreSQL straight through the driver.

A read unit of work with ``snapshot=False`` runs its one statement without a transaction
(``uow.SqlUnitOfWork``). On that connection a statement that needs nothing of SQLAlchemy's
execution (no compiled-statement lookup, no result processing: plain columns by name) can go to
asyncpg directly, which costs about a third of the CPU (``python -m bench.request_cost``): the
balance read, the service's most frequent request, is one such statement.

Errors keep their meaning: asyncpg's carry the SQLSTATE the API classifies
(``api.http.common.database_errors``), and when the connection turns out to be broken the statement
is run
once more through SQLAlchemy, which fails the same way and handles the disconnect as for every
other statement (it invalidates the pool's older connections).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection

BROKEN: Final = object()
""":func:`fetch_row` found the connection broken: run the statement through SQLAlchemy."""


def runs_alone(connection: AsyncConnection) -> bool:
    """Whether ``connection`` is a PostgreSQL connection outside any transaction (autocommit),
    so that a statement sent to the driver directly sees what SQLAlchemy would have run."""
    sync = connection.sync_connection
    return (
        sync is not None
        and sync.dialect.name == "postgresql"
        and sync.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    )


async def fetch_row(connection: AsyncConnection, sql: str, *arguments: Any) -> object:
    """The first row of ``sql`` (positional ``$1``… parameters) as a mapping of column names,
    None without one, or :data:`BROKEN`."""
    sync = connection.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return BROKEN
    # A live connection holds its pooled connection: reached without a hand-off to SQLAlchemy's
    # greenlet (``get_raw_connection`` costs one, which is there for an invalidated connection
    # that must reconnect — left to SQLAlchemy above).
    driver: Any = sync.connection.driver_connection
    try:
        row: Mapping[str, Any] | None = await driver.fetchrow(sql, *arguments)
    except Exception:
        if driver.is_closed():
            return BROKEN
        raise
    return row
