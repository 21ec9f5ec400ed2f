"""Bulk history for ``bench.growth``: millions of posted entries written straight into the tables.

The community, its members and accounts come through the service (``bench.report._community``);
the history does not — through the service 5M postings would take hours. Rows are generated in
chunks (never all in memory) and written with binary COPY on PostgreSQL, ``executemany`` on a
plain ``sqlite3`` connection on SQLite, then the accounts' counters are set from their postings
and the planner's statistics gathered. Every entry is balanced by construction, so PostgreSQL's
per-row guards (the deferred balance triggers, the foreign-key triggers) are switched off for the
load's session (``session_replication_role = replica``), and SQLite's foreign keys likewise:
checking 7.5M rows one by one is what made seeding slow, and checks nothing the generator does not
already guarantee. The same ``--members``, size and ``--years`` give the same rows on both
engines (one seeded generator).
"""

from __future__ import annotations

import itertools
import random
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from bench.report import CATEGORIES, YEAR
from ledger.kernel.model import Community, new_id

CHUNK = 20_000
"""Entries per generated chunk (and per COPY / executemany)."""

ENTRY_COLUMNS = ("community_id", "id", "status", "effective_date", "description", "kind",
                 "metadata", "created_at", "completed_at", "reverses")  # fmt: skip
POSTING_COLUMNS = ("community_id", "entry_id", "line", "account_id", "commodity", "amount",
                   "effective_date")  # fmt: skip

Chunk = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def history_start(years: int) -> date:
    """The first day of the history: ``years`` calendar years ending with the report's year."""
    return date(YEAR.end.year - years + 1, 1, 1)


def generate(
    community: Community,
    hours: list[uuid.UUID],
    money: dict[str, uuid.UUID],
    exchanges: int,
    years: int,
) -> Iterator[Chunk]:
    """Chunks of (entry rows, posting rows) in ``ENTRY_COLUMNS`` / ``POSTING_COLUMNS`` order:
    ``exchanges`` time-bank exchanges between members (a few members carry many), dated
    uniformly over the ``years`` ending with ``YEAR``, and two co-op money entries every third
    day of those years. ``metadata`` is JSON text."""
    rng = random.Random(2025)
    cumulative = list(itertools.accumulate(1 + 20 // (1 + i) for i in range(len(hours))))
    first = history_start(years)
    days = (YEAR.end - first).days + 1
    now = datetime.now(UTC)
    cid = community.id
    entry_rows: list[tuple[Any, ...]] = []
    posting_rows: list[tuple[Any, ...]] = []

    def entry(day: date, kind: str, metadata: str, lines: list[tuple[uuid.UUID, str, int]]) -> None:
        entry_id = new_id()
        entry_rows.append((cid, entry_id, "posted", day, "bench", kind, metadata, now, now, None))
        for line, (account_id, commodity, amount) in enumerate(lines):
            posting_rows.append((cid, entry_id, line, account_id, commodity, amount, day))

    def flush() -> Chunk:
        chunk = (entry_rows.copy(), posting_rows.copy())
        entry_rows.clear()
        posting_rows.clear()
        return chunk

    categories = [msgspec.json.encode({"category": c}).decode() for c in CATEGORIES]
    for _ in range(exchanges):
        giver = rng.choices(hours, cum_weights=cumulative, k=1)[0]
        receiver = rng.choice(hours)
        if giver == receiver:
            continue
        minutes = rng.choice((30, 60, 90, 120))
        day = first + timedelta(days=rng.randrange(days))
        entry(day, "exchange", rng.choice(categories),
              [(receiver, "HOURS", minutes), (giver, "HOURS", -minutes)])  # fmt: skip
        if len(entry_rows) >= CHUNK:
            yield flush()
    bank, farm, food = money["Assets:Bank"], money["Income:Farm"], money["Expenses:Food"]
    for day_index in range(0, days, 3):
        day = first + timedelta(days=day_index)
        entry(day, "general", "{}", [(bank, "EUR", 12_000), (farm, "EUR", -12_000)])
        entry(day, "general", "{}", [(food, "EUR", 9_000), (bank, "EUR", -9_000)])
    yield flush()


_COUNTERS = """
UPDATE accounts SET
  debits_posted = (SELECT coalesce(sum(p.amount), 0) FROM postings p
                   WHERE p.community_id = accounts.community_id AND p.account_id = accounts.id
                     AND p.amount > 0),
  credits_posted = (SELECT coalesce(sum(-p.amount), 0) FROM postings p
                    WHERE p.community_id = accounts.community_id AND p.account_id = accounts.id
                      AND p.amount < 0)
WHERE community_id = {community}
"""


async def load_postgresql(dsn: str, community_id: uuid.UUID, chunks: Iterator[Chunk]) -> int:
    """COPY every chunk in one transaction, set the counters, then ``VACUUM ANALYZE`` (a
    history loaded long ago has been vacuumed: its pages are all-visible, its statistics
    current). Returns the number of postings."""
    connection = await asyncpg.connect(dsn)
    count = 0
    try:
        await connection.execute("SET session_replication_role = replica")
        async with connection.transaction():
            for entry_rows, posting_rows in chunks:
                await connection.copy_records_to_table(
                    "entries", records=entry_rows, columns=ENTRY_COLUMNS
                )
                await connection.copy_records_to_table(
                    "postings", records=posting_rows, columns=POSTING_COLUMNS
                )
                count += len(posting_rows)
            # Statistics first: without them the planner may sum each account's postings by
            # scanning the whole community's.
            await connection.execute("ANALYZE postings")
            await connection.execute(_COUNTERS.format(community="$1"), community_id)
        await connection.execute("RESET session_replication_role")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return count


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores it on SQLite: UUIDs as 32 hex digits, dates and datetimes as ISO
    text (UTC, no zone)."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def load_sqlite(path: str, community_id: uuid.UUID, chunks: Iterator[Chunk]) -> int:
    """``executemany`` every chunk in one transaction, set the counters, then ``ANALYZE``.
    Returns the number of postings."""
    connection = sqlite3.connect(path, isolation_level=None)
    count = 0
    try:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN IMMEDIATE")
        entries_sql, postings_sql = (
            # Table and column names are this module's constants, values are parameters.
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
            for table, columns in (("entries", ENTRY_COLUMNS), ("postings", POSTING_COLUMNS))
        )
        for entry_rows, posting_rows in chunks:
            connection.executemany(
                entries_sql, ([_sqlite_value(v) for v in row] for row in entry_rows)
            )
            connection.executemany(
                postings_sql, ([_sqlite_value(v) for v in row] for row in posting_rows)
            )
            count += len(posting_rows)
        connection.execute("ANALYZE")  # else SQLite scans the community's postings per account
        connection.execute(_COUNTERS.format(community="?"), (community_id.hex,))
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return count
