"""Journal export throughput (postings/s) and peak memory (RSS), per engine and format.

    .venv/bin/python -m bench.export_journal [--postings 200000] [--formats beancount,csv]

Bulk-inserts a community's journal of N postings (two per entry, HOURS and EUR, over 1,000
member accounts and a few euro accounts, spread over a year) straight into the tables, then
runs each export in a fresh child process that streams it (encoded, then dropped) and reports
its own peak RSS and CPU time, so the numbers are the export's alone; postings per CPU second of
the exporter tell what it can do when the database and the machine are not the bottleneck.
Prints one line per engine and format; no assertions. PostgreSQL comes from
COMMONS_LEDGER_BENCH_DATABASE_URL (a server URL; a throw-away database is created beside it),
default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres.
The target (issue 5): ≥ 100,000 postings/s and ≤ 200 MB peak over 1M postings.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import fresh_database
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, new_id
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.store.scoped import connection_of
from ledger.store.tables import entries, postings
from reports.exports.journal import ExportFormat, JournalExports
from reports.queries.journal import DateRange

MEMBERS = 1_000
BATCH_ENTRIES = 5_000


async def _accounts(ledger: Ledger, community_id: uuid.UUID) -> tuple[list[Any], list[Any]]:
    await ledger.add_commodity(community_id, "EUR", "Euro", 2)
    hours = []
    for i in range(MEMBERS):
        opened = await ledger.open_account(
            community_id, NewAccount(f"m{i}", f"Member {i}", AccountType.LIABILITY, "HOURS")
        )
        hours.append(opened.id)
    eur = []
    for code, kind in (("Assets:Bank", AccountType.ASSET), ("Income:Farm", AccountType.INCOME)):
        opened = await ledger.open_account(community_id, NewAccount(code, code, kind, "EUR"))
        eur.append(opened.id)
    return hours, eur


def _batch(
    rng: random.Random, community_id: uuid.UUID, accounts: tuple[list[Any], list[Any]], size: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = datetime.now(UTC)
    entry_rows, posting_rows = [], []
    for _ in range(size):
        entry_id = new_id()
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
        pool, commodity = (accounts[0], "HOURS") if rng.random() < 0.7 else (accounts[1], "EUR")
        debit, credit = rng.sample(pool, 2)
        amount = rng.randint(1, 10_000)
        entry_rows.append(
            {
                "community_id": community_id,
                "id": entry_id,
                "status": "posted",
                "effective_date": day,
                "description": f"Bench entry {amount}",
                "kind": "transfer",
                "metadata": {},
                "created_at": now,
                "completed_at": now,
                "reverses": None,
            }
        )
        for line, (account_id, signed) in enumerate(((debit, amount), (credit, -amount))):
            posting_rows.append(
                {
                    "community_id": community_id,
                    "entry_id": entry_id,
                    "line": line,
                    "account_id": account_id,
                    "commodity": commodity,
                    "amount": signed,
                    "effective_date": day,
                }
            )
    return entry_rows, posting_rows


async def _generate(engine: AsyncEngine, total_postings: int) -> uuid.UUID:
    ledger = Ledger(SqlUnitOfWorkFactory(engine))
    community = await ledger.create_community(f"bench-{uuid.uuid4().hex[:10]}", "Bench")
    accounts = await _accounts(ledger, community.id)
    rng = random.Random(5)
    remaining = total_postings // 2
    while remaining > 0:
        size = min(BATCH_ENTRIES, remaining)
        entry_rows, posting_rows = _batch(rng, community.id, accounts, size)
        async with engine.begin() as conn:
            await conn.execute(entries.insert(), entry_rows)
            await conn.execute(postings.insert(), posting_rows)
        remaining -= size
    return community.id


async def _export_once(url: str, community_id: uuid.UUID, export_format: ExportFormat) -> None:
    """Child process: one export to /dev/null; prints seconds, characters and peak RSS in KiB."""
    engine = create_engine(url)
    try:
        exports = JournalExports(SqlUnitOfWorkFactory(engine), connection_of)
        started, cpu_started = time.perf_counter(), time.process_time()
        size = 0
        async for chunk in exports.stream(community_id, export_format, DateRange()):
            # Encoded as a file or a response would, then dropped.
            size += len(chunk.encode())
        elapsed = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
    finally:
        await engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sys.stdout.write(f"{elapsed} {size} {usage.ru_maxrss} {cpu_s}\n")


async def _measure(name: str, url: str, community_id: uuid.UUID, args: argparse.Namespace) -> None:
    for export_format in args.formats.split(","):
        child = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bench.export_journal", "--child", url, str(community_id)),
            export_format,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"the {export_format} export failed")
        elapsed, size, peak_kib, cpu_s = out.decode().split()
        rate, cpu_rate = args.postings / float(elapsed), args.postings / float(cpu_s)
        sys.stdout.write(
            f"{name:<10} {export_format:<9} {args.postings:>9} postings  {rate:8.0f} postings/s "
            f"({cpu_rate:.0f} per CPU second of the exporter)  {float(elapsed):6.2f} s  "
            f"{int(size) / 1e6:6.1f} MB  peak RSS {int(peak_kib) / 1024:6.1f} MiB\n"
        )


async def _bench(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        started = time.perf_counter()
        community_id = await _generate(engine, args.postings)
        seconds = time.perf_counter() - started
        sys.stdout.write(f"{name:<10} generated {args.postings} postings in {seconds:.1f} s\n")
    finally:
        await engine.dispose()
    await _measure(name, url, community_id, args)


async def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        await _export_once(sys.argv[2], uuid.UUID(sys.argv[3]), ExportFormat(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=200_000)
    parser.add_argument("--formats", default="beancount,csv", help="comma-separated")
    parser.add_argument("--engines", default="sqlite,postgresql", help="comma-separated")
    args = parser.parse_args()
    engines = args.engines.split(",")
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as folder:
            await _bench("sqlite", f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args)
    if "postgresql" not in engines:
        return
    async with fresh_database("cl_bench_export") as url:
        await _bench("postgresql", url, args)


if __name__ == "__main__":
    asyncio.run(main())
