"""How long the daily job ``materialise_due`` takes, alone and with a second runner racing it.

    .venv/bin/python -m bench.schedules [--schedules 100] [--months 12]

Per engine: ``--schedules`` monthly schedules that started ``--months`` months ago are
materialised by one runner, then (in a fresh community) by two runners at once on two engines;
prints the occurrences written, the seconds taken and occurrences/s, and checks that each period
was written once. PostgreSQL comes from COMMONS_LEDGER_BENCH_DATABASE_URL (a server URL; a
throw-away database is created beside it), default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from bench.databases import fresh_database
from ledger.books.service import Ledger
from ledger.economy.schedules import Frequency, NewSchedule, add_months
from ledger.economy.service import Economy
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.economy import SqlEconomyStore
from ledger.store.migrate import upgrade


async def _community(economy: Economy, ledger: Ledger, args: argparse.Namespace) -> uuid.UUID:
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    community, _ = await economy.charts.create_community(slug, "Bench", template="coop")
    code = {a.code: a.id for a in await ledger.list_accounts(community.id)}
    start = add_months(date.today().replace(day=1), -args.months + 1)
    for _ in range(args.schedules):
        spec = NewSchedule(
            "Dues", code["Assets:Bank"], code["Income:Dues"], 100, Frequency.MONTHLY, start
        )
        await economy.schedules.create(community.id, spec)
    return community.id


async def _bench(name: str, url: str, args: argparse.Namespace) -> None:
    engines = [create_engine(url), create_engine(url)]
    try:
        await upgrade(engines[0])
        runners = [Economy(SqlUnitOfWorkFactory(e), SqlEconomyStore.of) for e in engines]
        ledger = Ledger(SqlUnitOfWorkFactory(engines[0]))
        for racing in (1, 2):
            community_id = await _community(runners[0], ledger, args)
            began = time.perf_counter()
            written = await asyncio.gather(
                *(r.materialise_due(community_id, date.today()) for r in runners[:racing])
            )
            elapsed = time.perf_counter() - began
            entries = await ledger.list_entries(community_id, kind="scheduled", limit=1000)
            expected = args.schedules * args.months
            assert sum(written) == expected, (written, expected)
            assert len(entries) == min(expected, 1000)
            sys.stdout.write(
                f"{name:<10} runners={racing} {sum(written):6d} occurrences "
                f"{elapsed:7.2f} s {sum(written) / elapsed:8.0f}/s (each period once)\n"
            )
    finally:
        for engine in engines:
            await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await _bench("sqlite", f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args)
    async with fresh_database("cl_bench") as url:
        await _bench("postgresql", url, args)


if __name__ == "__main__":
    asyncio.run(main())
