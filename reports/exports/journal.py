"""The journal export: one read snapshot streamed through a writer as text chunks.

Memory stays constant in the journal's length: entries arrive one at a time from a server-side
cursor and leave as text in chunks of about :data:`CHUNK_CHARS`; only the chart of accounts and
the commodities are held whole.

Over HTTP the export is read whole into a spool file (memory up to :data:`SPOOL_MEMORY_BYTES`,
then disk) under one of the :class:`~reports.read_slots.ReadSlots` before the first byte is
sent: the client's reading speed then decides how long a file stays open, never how long a
database connection does (issue 18, H2), and a failure while reading is a whole error response
rather than a body cut short.
"""

from __future__ import annotations

import enum
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel.uow import UnitOfWorkFactory
from reports.exports import beancount_writer, csv_writer, hledger_writer
from reports.exports.book import ExportClose, ExportHead
from reports.exports.naming import account_names
from reports.queries import ConnectionOf
from reports.queries import journal as queries
from reports.queries.journal import DateRange, JournalEntry
from reports.read_slots import ReadSlots

CHUNK_CHARS = 64 * 1024
"""Text gathered before a chunk is handed on (to the HTTP response or a file)."""
SPOOL_MEMORY_BYTES = 1024 * 1024
"""A spooled export larger than this moves from memory to a temporary file."""
SEND_CHUNK_BYTES = 64 * 1024
"""Bytes read back from the spool per chunk sent."""
_DAY = timedelta(days=1)
EARLIEST = date(1, 1, 2)
LATEST = date(9999, 12, 30)
"""Range ends stay a day inside the calendar: the export reads the day before the start and
Beancount asserts balances on the day after the end."""


def range_problem(dates: DateRange) -> str | None:
    """Why ``dates`` cannot be exported, or None."""
    for label, day in (("from", dates.start), ("to", dates.end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            return f"{label} must lie between {EARLIEST} and {LATEST}"
    if dates.start is not None and dates.end is not None and dates.start > dates.end:
        return f"from ({dates.start}) is after to ({dates.end})"
    return None


class ExportFormat(enum.StrEnum):
    BEANCOUNT = "beancount"
    HLEDGER = "hledger"
    CSV = "csv"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def suffix(self) -> str:
        """The file name's suffix: ``journal.<suffix>``."""
        return _SUFFIXES[self]


class JournalWriter(Protocol):
    def header(self) -> Iterator[str]: ...
    def entry(self, entry: JournalEntry) -> str: ...
    def footer(self, close: ExportClose) -> Iterator[str]: ...


_MEDIA_TYPES = {
    ExportFormat.BEANCOUNT: beancount_writer.MEDIA_TYPE,
    ExportFormat.HLEDGER: hledger_writer.MEDIA_TYPE,
    ExportFormat.CSV: csv_writer.MEDIA_TYPE,
}
_SUFFIXES = {
    ExportFormat.BEANCOUNT: beancount_writer.SUFFIX,
    ExportFormat.HLEDGER: hledger_writer.SUFFIX,
    ExportFormat.CSV: csv_writer.SUFFIX,
}
_WRITERS: dict[ExportFormat, Callable[[ExportHead], JournalWriter]] = {
    ExportFormat.BEANCOUNT: beancount_writer.BeancountWriter,
    ExportFormat.HLEDGER: hledger_writer.HledgerWriter,
    ExportFormat.CSV: csv_writer.CsvWriter,
}


def writer_for(export_format: ExportFormat, head: ExportHead) -> JournalWriter:
    return _WRITERS[export_format](head)


class JournalExports:
    """Streams a community's journal in one of the :class:`ExportFormat` s, read on the
    connection ``connection_of`` gives of a read unit of work from ``units`` (why a function:
    ``reports.queries``)."""

    def __init__(
        self,
        units: UnitOfWorkFactory[object],
        connection_of: ConnectionOf,
        slots: ReadSlots | None = None,
    ) -> None:
        self._units = units
        self._connection_of = connection_of
        self._slots = slots or ReadSlots.unbounded()

    async def spooled(
        self, community_id: uuid.UUID, export_format: ExportFormat, dates: DateRange
    ) -> AsyncIterator[bytes]:
        """The export read whole (within a read slot and its deadline) into a spool, then its
        UTF-8 bytes in chunks, the database long released. Callers refuse what
        :func:`range_problem` names first."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        try:
            async with self._slots.held():
                async for chunk in self.stream(community_id, export_format, dates):
                    spool.write(chunk.encode())
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return _read_back(spool)

    async def stream(
        self, community_id: uuid.UUID, export_format: ExportFormat, dates: DateRange
    ) -> AsyncIterator[str]:
        """The export's text in chunks. Callers refuse what :func:`range_problem` names first
        (a start after the end would give an empty journal, a date at the calendar's edge an
        overflow)."""
        async with self._units(write=False) as uow:
            conn = self._connection_of(uow)
            head = await _head(conn, community_id, dates)
            writer = writer_for(export_format, head)
            last_day = head.open_date
            pending: list[str] = list(writer.header())
            size = sum(map(len, pending))
            async for entry in queries.stream_entries(conn, community_id, dates):
                text = writer.entry(entry)
                pending.append(text)
                size += len(text)
                last_day = entry.effective_date
                if size >= CHUNK_CHARS:
                    yield "".join(pending)
                    pending, size = [], 0
            balances = await queries.posted_balances(conn, community_id, dates.end)
        as_of = dates.end or last_day
        pending.extend(writer.footer(ExportClose(as_of, balances)))
        yield "".join(pending)


async def _read_back(spool: tempfile.SpooledTemporaryFile[bytes]) -> AsyncIterator[bytes]:
    with spool:
        while chunk := spool.read(SEND_CHUNK_BYTES):
            yield chunk


async def _head(conn: AsyncConnection, community_id: uuid.UUID, dates: DateRange) -> ExportHead:
    accounts = await queries.list_accounts(conn, community_id)
    first = await queries.first_date(conn, community_id, dates)
    open_date = dates.start or first or dates.end or datetime.now(UTC).date()
    opening: dict[uuid.UUID, int] = {}
    if dates.start is not None:
        opening = await queries.posted_balances(conn, community_id, dates.start - _DAY)
    return ExportHead(
        community=await queries.community_name(conn, community_id),
        dates=dates,
        open_date=open_date,
        commodities=tuple(await queries.list_commodities(conn, community_id)),
        accounts=tuple(accounts),
        names=account_names(accounts),
        opening=opening,
    )
