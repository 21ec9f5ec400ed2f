"""The bulk statements of a batch of entries (``ledger.books.batches``), on a unit of work's
connection: a handful of round trips per batch instead of several per item."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel.model import Entry
from ledger.store.entries import (
    INSERT_WITH_POSTINGS,
    entry_row,
    posting_rows,
    with_postings_params,
)
from ledger.store.tables import entries, postings

# Built once: a statement object keeps its cache key, so executing it again costs no
# compilation and no cache-key walk.
_INSERT_ENTRIES = entries.insert()
_INSERT_POSTINGS = postings.insert()
# PostgreSQL: a batch's entries and postings in one statement and one execution
# (``entries.INSERT_WITH_POSTINGS``: an executemany runs its statement once per row on the
# server, while the batch's accounts stay locked). The batch's idempotency keys are claimed and
# written by ``ledger.store.idempotency`` (one row per key, written with its outcome).


class SqlBatchStore:
    """The bulk statements of the entry write over one connection (``SqlRepository`` answers
    with them)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._dialect = connection.dialect.name

    async def insert_entries(self, written: Sequence[Entry]) -> None:
        if not written:
            return
        if self._dialect == "postgresql":
            await self._conn.execute(INSERT_WITH_POSTINGS, with_postings_params(written))
            return
        await self._conn.execute(_INSERT_ENTRIES, [entry_row(entry) for entry in written])
        await self._conn.execute(
            _INSERT_POSTINGS, [row for entry in written for row in posting_rows(entry)]
        )
