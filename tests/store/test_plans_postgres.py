"""Plans that cannot go stale: a database grown from empty to 50,000 entries under one long-lived
pool, with no statistics ever gathered (``autovacuum`` off), keeps its per-transfer cost flat —
single writes (``Ledger.post_entry``) and groups of keyed writes (``EntryBatches.post_each``, what
group commit runs for the API's writes) alike.

PostgreSQL keeps a connection's prepared plans — the service's statements, the foreign-key checks,
the balance guard's queries — and with no ``ANALYZE`` nothing makes it plan them again. A plan
chosen while a table was nearly empty must therefore still be right on the grown table: every
guard and lock reaches its rows by primary key (migration 0014, ``ledger.store.accounts``).

Measured in shared buffers of the tables and their indexes touched per transfer
(``pg_statio_user_tables``), on a throw-away server of the test's own that nothing else uses, not
in time: a buffer count does not move with the machine's load. A plan gone stale read every entry
or account of the community for each lookup: ×50 and more at this size. What remains is the
B-trees' growing depth: a level more for each index probe.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.batches import EntryBatches, Write
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, IdempotencyKey, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.databases import migrate
from tests.faults.cluster import throwaway_cluster

GROWN_ENTRIES = 50_000
GROWN_ACCOUNTS = 10_000
TRANSFERS = 40
"""Transfers per measured window (after as many unmeasured, which finish the plans' making:
PostgreSQL settles on a kept plan after a statement's fifth run)."""

_GROW = """
WITH grown AS (
    INSERT INTO entries (community_id, id, status, effective_date, description, kind, metadata,
                         created_at, completed_at)
    SELECT $1, gen_random_uuid(), 'posted', current_date, 'grown', 'transfer', '{}', now(), now()
    FROM generate_series(1, $2)
    RETURNING community_id, id, effective_date
)
INSERT INTO postings (community_id, entry_id, line, account_id, commodity, amount, effective_date)
SELECT g.community_id, g.id, side.line, side.account_id, 'HOURS', side.amount, g.effective_date
FROM grown AS g CROSS JOIN (VALUES (0, $3::uuid, 1::bigint), (1, $4::uuid, -1::bigint))
    AS side (line, account_id, amount)
"""
"""Balanced entries, written with every guard on (the deferred balance triggers and the foreign
keys check each row), so the growth needs no privilege the service lacks."""

_MORE_ACCOUNTS = """
INSERT INTO accounts (community_id, id, code, name, type, normal_sign, commodity, closed,
                      created_at, debits_posted, credits_posted, debits_pending, credits_pending)
SELECT $1, gen_random_uuid(), 'grown-' || i, 'Grown', 'liability', -1, 'HOURS', false, now(),
       0, 0, 0, 0
FROM generate_series(1, $2) AS i
"""


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    # A server of its own: on the shared one, other tests create databases and tables all the
    # while, and each such change is a message every backend of the server must read. A backend
    # that falls behind resets its caches, the target page of each table's inserts among them,
    # and its next inserts search the free-space map again — the likeliest reason why two
    # clean-clone CI runs counted 20 to 60 more buffers per transfer than the test alone ever
    # does, past the bound below.
    with throwaway_cluster() as cluster:
        asyncio.run(migrate(cluster.url))
        asyncio.run(_without_autovacuum(cluster.url))
        yield cluster.url


async def _without_autovacuum(url: str) -> None:
    """As on a server with ``autovacuum = off``: nothing gathers statistics, whatever the test
    server's own setting."""
    async with _driver(url) as connection:
        for (table,) in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ):
            await connection.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')


@asynccontextmanager
async def _driver(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection to the database at ``url``, outside the service's pool."""
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        yield connection
    finally:
        await connection.close()


_TOUCHED = """
SELECT coalesce(sum(heap_blks_hit + heap_blks_read
                    + coalesce(idx_blks_hit, 0) + coalesce(idx_blks_read, 0)
                    + coalesce(toast_blks_hit, 0) + coalesce(toast_blks_read, 0)
                    + coalesce(tidx_blks_hit, 0) + coalesce(tidx_blks_read, 0)), 0)
FROM pg_statio_user_tables
"""


async def _buffers(engine: AsyncEngine) -> int:
    """Shared buffers of this database's tables and indexes (toast included) its backends have
    touched, the pool's own included: its backend is made to publish its counts as it goes idle
    (forced), before they are read."""
    async with engine.connect() as connection:
        await connection.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        await connection.commit()
        await connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        touched = (await connection.execute(sa.text(_TOUCHED))).scalar_one()
        await connection.commit()
    return int(touched)


GROUP = 8
"""Writes per group on the group path (``EntryBatches.post_each``, what group commit runs)."""


@dataclass
class _Books:
    community: uuid.UUID
    accounts: list[uuid.UUID]


async def _buffers_per_transfer(engine: AsyncEngine, books: _Books) -> dict[str, float]:
    """Shared buffers per transfer on each write path: ``Ledger.post_entry`` alone, and groups
    of keyed writes as group commit makes them."""
    uow = SqlUnitOfWorkFactory(engine)
    ledger, batches = Ledger(uow), EntryBatches(uow)
    rng = random.Random(7)

    def transfer() -> NewEntry:
        debit, credit = rng.sample(books.accounts, 2)
        return NewEntry((PostingSpec(debit, 1), PostingSpec(credit, -1)))

    async def single() -> None:
        for _ in range(TRANSFERS):
            await ledger.post_entry(books.community, transfer())

    async def grouped() -> None:
        for _ in range(TRANSFERS // GROUP):
            writes = [
                Write(transfer(), IdempotencyKey("test", uuid.uuid4().hex)) for _ in range(GROUP)
            ]
            await batches.post_each(books.community, writes)

    measured = {}
    for name, transfers in (("single", single), ("grouped", grouped)):
        await transfers()
        # The smaller of two rounds: what else lands in a round's count (a backend publishing
        # its counts late) only adds to it.
        rounds = []
        for _ in range(2):
            before = await _buffers(engine)
            await transfers()
            rounds.append((await _buffers(engine) - before) / TRANSFERS)
        measured[name] = min(rounds)
    return measured


async def test_a_grown_database_keeps_the_cost_per_transfer_flat(empty_database_url: str) -> None:
    # One connection: every transfer runs on the plans it made while the books were empty.
    engine = create_engine(empty_database_url, pool_size=1, max_overflow=0)
    fresh = create_engine(empty_database_url, pool_size=1, max_overflow=0)
    try:
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = (await ledger.create_community("grown", "Grown")).id
        accounts = [
            (
                await ledger.open_account(
                    community, NewAccount(f"m{i}", f"M{i}", AccountType.LIABILITY, "HOURS")
                )
            ).id
            for i in range(20)
        ]
        books = _Books(community, accounts)
        at_start = await _buffers_per_transfer(engine, books)

        async with _driver(empty_database_url) as connection, connection.transaction():
            await connection.execute(_MORE_ACCOUNTS, community, GROWN_ACCOUNTS)
            await connection.execute(_GROW, community, GROWN_ENTRIES, accounts[0], accounts[1])
        long_lived = await _buffers_per_transfer(engine, books)
        # A connection opened now plans on the grown tables: what a restart would give.
        newly_planned = await _buffers_per_transfer(fresh, books)
    finally:
        await engine.dispose()
        await fresh.dispose()

    for path in ("single", "grouped"):
        figures = (path, at_start[path], long_lived[path], newly_planned[path])
        assert long_lived[path] <= 1.2 * newly_planned[path], figures
        assert long_lived[path] <= 1.5 * at_start[path], figures
