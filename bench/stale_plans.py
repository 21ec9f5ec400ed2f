"""PostgreSQL's cost per transfer as a database grows from empty under one long-lived pool.

    .venv/bin/python -m bench.stale_plans [--entries 50000] [--steps 5] [--transfers 300]

A fresh database (autovacuum off for its tables, so no statistics are ever gathered), one
connection serving ``Ledger.post_entry`` throughout; between measurements the books grow by
``entries / steps`` balanced entries (and a fifth as many accounts), written with every guard on
from another connection. Each row: entries in the books, then per transfer on the long-lived
connection the shared buffers its backend touched (``pg_stat_database``, exact and independent
of the machine's load) and its CPU (``bench.pg_cpu``); the last row adds a connection opened on
the grown books (what a restart would give). Prints the ratios end/start and long-lived/fresh:
the plans cached while the books were empty must not make a transfer dearer as they grow
(``tests/store/test_plans_postgres.py`` asserts the buffers).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import uuid

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import dsn, fresh_database
from bench.pg_cpu import BackendCpu
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade

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
_MORE_ACCOUNTS = """
INSERT INTO accounts (community_id, id, code, name, type, normal_sign, commodity, closed,
                      created_at, debits_posted, credits_posted, debits_pending, credits_pending)
SELECT $1, gen_random_uuid(), 'grown-' || $3::int || '-' || i, 'Grown', 'liability', -1, 'HOURS',
       false, now(), 0, 0, 0, 0
FROM generate_series(1, $2) AS i
"""


async def _buffers(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        await connection.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        await connection.commit()
        await connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        touched = await connection.execute(
            sa.text(
                "SELECT blks_hit + blks_read FROM pg_stat_database"
                " WHERE datname = current_database()"
            )
        )
        await connection.commit()
        return int(touched.scalar_one())


async def _window(
    url: str, engine: AsyncEngine, community: uuid.UUID, accounts: list[uuid.UUID], count: int
) -> tuple[float, float]:
    """Buffers and CPU milliseconds per transfer over ``count`` transfers (after 20 unmeasured,
    which settle a new connection's plans)."""
    ledger = Ledger(SqlUnitOfWorkFactory(engine))
    rng = random.Random(count)

    async def transfers(n: int) -> None:
        for _ in range(n):
            debit, credit = rng.sample(accounts, 2)
            postings = (PostingSpec(debit, 1), PostingSpec(credit, -1))
            await ledger.post_entry(community, NewEntry(postings))

    await transfers(20)
    before = await _buffers(engine)
    with BackendCpu(url) as cpu:
        await transfers(count)
    return (await _buffers(engine) - before) / count, cpu.seconds * 1000 / count


async def _run(url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    await upgrade(engine)
    grower = await asyncpg.connect(dsn(url))
    try:
        for (table,) in await grower.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ):
            await grower.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = (await ledger.create_community("grown", "Grown")).id
        accounts = [
            (await ledger.open_account(
                community, NewAccount(f"m{i}", f"M{i}", AccountType.LIABILITY, "HOURS")
            )).id
            for i in range(20)
        ]  # fmt: skip
        rows = [("start", 0, *await _window(url, engine, community, accounts, args.transfers))]
        step = args.entries // args.steps
        for n in range(1, args.steps + 1):
            async with grower.transaction():
                await grower.execute(_MORE_ACCOUNTS, community, step // 5, n)
                await grower.execute(_GROW, community, step, accounts[0], accounts[1])
            measured = await _window(url, engine, community, accounts, args.transfers)
            rows.append(("long-lived", n * step, *measured))
            sys.stderr.write(f"{rows[-1]}\n")
        fresh = create_engine(url, pool_size=1, max_overflow=0)
        try:
            measured = await _window(url, fresh, community, accounts, args.transfers)
            rows.append(("fresh connection", args.entries, *measured))
        finally:
            await fresh.dispose()
    finally:
        await grower.close()
        await engine.dispose()
    _print(rows)


def _print(rows: list[tuple[str, int, float, float]]) -> None:
    sys.stdout.write(f"{'connection':<18}{'grown entries':>14}{'buffers/transfer':>18}"
                     f"{'PG CPU ms/transfer':>20}\n")  # fmt: skip
    for name, entries, buffers, cpu_ms in rows:
        sys.stdout.write(f"{name:<18}{entries:>14,}{buffers:>18.1f}{cpu_ms:>20.3f}\n")
    start, end, fresh = rows[0], rows[-2], rows[-1]
    sys.stdout.write(
        f"end / start: buffers ×{end[2] / start[2]:.2f}, CPU ×{end[3] / start[3]:.2f}; "
        f"long-lived / fresh at the end: buffers ×{end[2] / fresh[2]:.2f}, "
        f"CPU ×{end[3] / fresh[3]:.2f}\n"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--transfers", type=int, default=300, help="per measurement")
    args = parser.parse_args()
    async with fresh_database("cl_bench_plans") as url:
        await _run(url, args)


if __name__ == "__main__":
    asyncio.run(main())
