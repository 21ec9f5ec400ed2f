"""Throughput and latency of ``Ledger.post_entry`` through the service (no HTTP), per engine.

    .venv/bin/python -m bench.post_entries [--clients 16] [--entries 200] [--accounts 1000]

Prints one line per engine and scenario: entries/s, p50 and p99 latency in ms. Scenarios:
``random`` (two accounts drawn at random) and ``hot`` (every entry also credits one shared
account). PostgreSQL comes from COMMONS_LEDGER_BENCH_DATABASE_URL (a server URL; a throw-away
database is created beside it), default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres.
Numbers vary between machines and runs: compare runs on the same machine, medians of several.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.databases import fresh_database
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade


async def _scenario(
    ledger: Ledger, clients: int, entries: int, accounts: int, hot: bool
) -> tuple[float, list[float]]:
    community = await ledger.create_community(f"bench-{uuid.uuid4().hex[:10]}", "Bench")
    ids = [
        (
            await ledger.open_account(
                community.id, NewAccount(f"a{i}", f"A{i}", AccountType.LIABILITY, "HOURS")
            )
        ).id
        for i in range(accounts)
    ]
    fund = ids[0]
    latencies: list[float] = []

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(entries):
            debit, credit = rng.sample(ids[1:], 2)
            postings = [PostingSpec(debit, 2), PostingSpec(credit, -1)]
            postings.append(PostingSpec(fund if hot else credit, -1))
            started = time.perf_counter()
            await ledger.post_entry(community.id, NewEntry(tuple(postings)))
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(seed) for seed in range(clients)))
    return time.perf_counter() - started, latencies


async def _bench(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url, **({"pool_size": args.clients} if "postgresql" in url else {}))
    try:
        await upgrade(engine)
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        for hot in (False, True):
            elapsed, latencies = await _scenario(
                ledger, args.clients, args.entries, args.accounts, hot
            )
            quantiles = statistics.quantiles(latencies, n=100)
            sys.stdout.write(
                f"{name:<10} {'hot' if hot else 'random':<6} clients={args.clients:<3} "
                f"{len(latencies) / elapsed:8.0f} entries/s  "
                f"p50 {quantiles[49] * 1000:6.1f} ms  p99 {quantiles[98] * 1000:6.1f} ms\n"
            )
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--entries", type=int, default=200, help="per client")
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await _bench("sqlite", f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args)
    async with fresh_database("cl_bench") as url:
        await _bench("postgresql", url, args)


if __name__ == "__main__":
    asyncio.run(main())
