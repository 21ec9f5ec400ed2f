"""The bulk writes of ``ledger.journal_import`` on a unit of work's transaction: binary COPY on
PostgreSQL (asyncpg's ``copy_records_to_table`` on the connection under SQLAlchemy's, so in the
same transaction), ``executemany`` on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.model import Entry
from ledger.ports import UnitOfWork
from ledger.store.batches import SqlBatchStore
from ledger.store.uow import SqlUnitOfWork

_ENTRY_COLUMNS = (
    "community_id",
    "id",
    "status",
    "effective_date",
    "description",
    "kind",
    "metadata",
    "created_at",
    "completed_at",
    "reverses",
)
_POSTING_COLUMNS = (
    "community_id",
    "entry_id",
    "line",
    "account_id",
    "commodity",
    "amount",
    "effective_date",
)
_json = msgspec.json.Encoder()


class SqlJournalWriter:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    @classmethod
    def of(cls, uow: UnitOfWork) -> SqlJournalWriter:
        assert isinstance(uow, SqlUnitOfWork), "a journal writer needs an SQL unit of work"
        return cls(uow.connection)

    async def insert(self, written: Sequence[Entry]) -> None:
        if self._conn.dialect.name != "postgresql":
            await SqlBatchStore(self._conn).insert_entries(written)
            return
        raw = await self._conn.get_raw_connection()
        # SQLAlchemy's adapter holds asyncpg's connection, in the transaction SQLAlchemy began.
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(
            "entries", records=_entry_records(written), columns=_ENTRY_COLUMNS
        )
        await driver.copy_records_to_table(
            "postings", records=_posting_records(written), columns=_POSTING_COLUMNS
        )


def _entry_records(written: Sequence[Entry]) -> list[tuple[Any, ...]]:
    # jsonb goes as JSON text: SQLAlchemy's asyncpg dialect registers a codec taking text.
    return [
        (
            e.community_id,
            e.id,
            e.status.value,
            e.effective_date,
            e.description,
            e.kind,
            _json.encode(e.metadata).decode(),
            e.created_at,
            e.completed_at,
            e.reverses,
        )
        for e in written
    ]


def _posting_records(written: Sequence[Entry]) -> list[tuple[Any, ...]]:
    return [
        (e.community_id, e.id, line, p.account_id, p.commodity, p.amount, e.effective_date)
        for e in written
        for line, p in enumerate(e.postings)
    ]
