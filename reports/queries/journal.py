"""Read-side SQL for the journal exports: the chart of accounts, the commodities, posted balances
as of a day and the posted entries of a date range, streamed.

Which entries are the books: **posted** ones only. A pending entry has not happened yet and a
voided one never will; neither moves a posted balance, so leaving them out keeps every balance an
export implies equal to the trial balance. A reversal is an ordinary posted entry that names the
entry it reverses (``reverses``); both are exported.

Everything is read on one unit of work's connection, so on PostgreSQL (REPEATABLE READ, READ
ONLY) and SQLite (one deferred read transaction) the entries, the accounts and the closing
balances come from one snapshot. Entries stream from a server-side cursor in (effective date,
entry id, line) order, so memory stays constant however long the journal is.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel.model import AccountType, EntryStatus
from ledger.store.tables import accounts, commodities, communities, entries, members, postings

T = TypeVar("T")

STREAM_BATCH_ROWS = 2_000
"""Posting rows fetched from the server per round trip while streaming."""


@dataclass(frozen=True, slots=True)
class DateRange:
    """Effective dates ``start``..``end``, both included; None leaves that side open."""

    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class JournalCommodity:
    code: str
    name: str
    scale: int
    """Decimal places of the display unit; the stored integer is in 10^-scale of it."""


@dataclass(frozen=True, slots=True)
class JournalAccount:
    id: uuid.UUID
    code: str
    name: str
    type: AccountType
    commodity: str
    member_id: uuid.UUID | None
    member_name: str | None


@dataclass(frozen=True, slots=True)
class JournalPosting:
    account_id: uuid.UUID
    commodity: str
    amount: int
    """Smallest unit of the commodity; positive debits, negative credits."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: uuid.UUID
    effective_date: date
    status: EntryStatus
    kind: str
    description: str
    metadata_json: str
    """The entry's metadata as compact JSON with sorted keys (the same text on both engines)."""
    reverses: uuid.UUID | None
    postings: tuple[JournalPosting, ...]


async def community_name(conn: AsyncConnection, community_id: uuid.UUID) -> str:
    query = sa.select(communities.c.name).where(communities.c.id == community_id)
    return str((await conn.execute(query)).scalar_one())


async def list_commodities(
    conn: AsyncConnection, community_id: uuid.UUID
) -> list[JournalCommodity]:
    query = (
        sa.select(commodities.c.code, commodities.c.name, commodities.c.scale)
        .where(commodities.c.community_id == community_id)
        .order_by(commodities.c.code)
    )
    return [JournalCommodity(r.code, r.name, r.scale) for r in await conn.execute(query)]


async def list_accounts(conn: AsyncConnection, community_id: uuid.UUID) -> list[JournalAccount]:
    """Every account by code, with its member's name for member accounts."""
    query = (
        sa.select(
            accounts.c.id,
            accounts.c.code,
            accounts.c.name,
            accounts.c.type,
            accounts.c.commodity,
            accounts.c.member_id,
            members.c.name.label("member_name"),
        )
        .outerjoin(
            members,
            sa.and_(
                members.c.community_id == accounts.c.community_id,
                members.c.id == accounts.c.member_id,
            ),
        )
        .where(accounts.c.community_id == community_id)
        .order_by(accounts.c.code)
    )
    return [
        JournalAccount(
            r.id, r.code, r.name, AccountType(r.type), r.commodity, r.member_id, r.member_name
        )
        for r in await conn.execute(query)
    ]


def _posted_in(community_id: uuid.UUID, dates: DateRange) -> list[sa.ColumnElement[bool]]:
    conditions = [
        entries.c.community_id == community_id,
        entries.c.status == EntryStatus.POSTED.value,
    ]
    if dates.start is not None:
        conditions.append(entries.c.effective_date >= dates.start)
    if dates.end is not None:
        conditions.append(entries.c.effective_date <= dates.end)
    return conditions


async def posted_balances(
    conn: AsyncConnection, community_id: uuid.UUID, as_of: date | None
) -> dict[uuid.UUID, int]:
    """Per account, debits − credits of posted entries effective on or before ``as_of`` (all of
    them when None), in the commodity's smallest unit. Accounts without postings are absent."""
    query = (
        sa.select(postings.c.account_id, sa.func.sum(postings.c.amount))
        .join(
            entries,
            sa.and_(
                entries.c.community_id == postings.c.community_id,
                entries.c.id == postings.c.entry_id,
            ),
        )
        .where(*_posted_in(community_id, DateRange(end=as_of)))
        .group_by(postings.c.account_id)
    )
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


async def first_date(
    conn: AsyncConnection, community_id: uuid.UUID, dates: DateRange
) -> date | None:
    """The earliest effective date of a posted entry in ``dates``."""
    query = sa.select(sa.func.min(entries.c.effective_date)).where(*_posted_in(community_id, dates))
    found: date | None = (await conn.execute(query)).scalar_one()
    return found


def _canonical_json(text: str) -> str:
    # jsonb on PostgreSQL and JSON text on SQLite spell the same value differently.
    value: Any = msgspec.json.decode(text)
    return msgspec.json.encode(value, order="sorted").decode()


def _raw(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    # The driver's value without SQLAlchemy's per-row conversion (UUIDs from 32 hex digits and
    # dates from text on SQLite): most rows repeat their entry's values and an account's id, so
    # ``_Decoder`` converts each distinct value once.
    return sa.type_coerce(column, sa.String)


class _Decoder:
    """Turns the driver's raw ids and dates into ``uuid.UUID`` and ``date``: asyncpg gives
    those types (its UUID subclasses ``uuid.UUID``), SQLite gives hex digits and ISO text."""

    def __init__(self) -> None:
        self._accounts: dict[Any, uuid.UUID] = {}

    @staticmethod
    def to_uuid(raw: Any) -> uuid.UUID:
        return raw if isinstance(raw, uuid.UUID) else uuid.UUID(hex=raw)

    @staticmethod
    def to_date(raw: Any) -> date:
        return raw if isinstance(raw, date) else date.fromisoformat(raw)

    def account(self, raw: Any) -> uuid.UUID:
        found = self._accounts.get(raw)
        if found is None:
            found = self._accounts[raw] = self.to_uuid(raw)
        return found


async def stream_entries(
    conn: AsyncConnection, community_id: uuid.UUID, dates: DateRange
) -> AsyncIterator[JournalEntry]:
    """Posted entries in ``dates`` with their postings, by (effective date, id); postings in
    line order. Rows come from a server-side cursor, one entry is held at a time."""
    query = (
        sa.select(
            _raw(entries.c.id).label("id"),
            _raw(entries.c.effective_date).label("effective_date"),
            entries.c.kind,
            entries.c.description,
            sa.cast(entries.c.metadata, sa.Text).label("metadata_json"),
            _raw(entries.c.reverses).label("reverses"),
            _raw(postings.c.account_id).label("account_id"),
            postings.c.commodity,
            postings.c.amount,
        )
        .join(
            postings,
            sa.and_(
                postings.c.community_id == entries.c.community_id,
                postings.c.entry_id == entries.c.id,
            ),
        )
        .where(*_posted_in(community_id, dates))
        .order_by(entries.c.effective_date, entries.c.id, postings.c.line)
        .execution_options(yield_per=STREAM_BATCH_ROWS)
    )
    decode = _Decoder()
    result = await conn.stream(query)
    head: Any = None
    lines: list[JournalPosting] = []
    async for batch in _fetching_ahead(result.partitions()):
        for row in batch:
            if head is not None and row[0] != head[0]:
                yield _entry(head, lines, decode)
                lines = []
            if not lines:
                head = row
            lines.append(JournalPosting(decode.account(row[6]), row[7], row[8]))
    if head is not None:
        yield _entry(head, lines, decode)


async def _fetching_ahead(batches: AsyncIterator[Sequence[T]]) -> AsyncIterator[Sequence[T]]:
    """The batches of ``batches``, the next one fetched while the caller works on this one:
    the database (or SQLite's thread) and the writer then work at the same time."""
    ahead: asyncio.Future[Sequence[T] | None] = asyncio.ensure_future(anext(batches, None))
    try:
        while (batch := await ahead) is not None:
            ahead = asyncio.ensure_future(anext(batches, None))
            yield batch
    finally:
        # A consumer that stops early: let the fetch in flight end before the connection is
        # rolled back and closed (one batch at most), rather than cancel it mid-protocol.
        if not ahead.done():
            with contextlib.suppress(Exception):
                await ahead


def _entry(head: Any, lines: list[JournalPosting], decode: _Decoder) -> JournalEntry:
    entry_id, day, kind, description, metadata_json, reverses = head[:6]
    return JournalEntry(
        id=decode.to_uuid(entry_id),
        effective_date=decode.to_date(day),
        status=EntryStatus.POSTED,
        kind=kind,
        description=description,
        metadata_json=_canonical_json(metadata_json),
        reverses=None if reverses is None else decode.to_uuid(reverses),
        postings=tuple(lines),
    )
