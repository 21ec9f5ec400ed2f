"""An insert whose one possible conflict is a known rule break."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel import errors


async def insert_unique(
    connection: AsyncConnection,
    table: sa.Table,
    values: dict[str, Any],
    on_conflict: errors.LedgerError,
) -> None:
    """Inserts a row whose only possible conflict is the one ``on_conflict`` describes;
    callers check the foreign keys first. A savepoint keeps the transaction usable after it."""
    try:
        async with connection.begin_nested():
            await connection.execute(table.insert().values(**values))
    except IntegrityError:
        raise on_conflict from None
