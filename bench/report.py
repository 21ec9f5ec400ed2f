"""How long the sustainability report of a year of a large community takes, per engine.

    .venv/bin/python -m bench.report [--members 500] [--exchanges 50000] [--runs 3]

Generates a community (members through the service; a year of exchanges and co-op entries
bulk-inserted as balanced posted entries, with the accounts' counters set from their postings),
then times the JSON report of the whole year (the service call plus JSON encoding) and prints the
median and the fastest of ``--runs``. PostgreSQL comes from COMMONS_LEDGER_BENCH_DATABASE_URL like
``bench.post_entries``; a throw-away database is created and dropped.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import fresh_database
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, Community, new_id
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.store.scoped import connection_of
from ledger.store.tables import accounts, entries, postings
from reports.period import Period
from reports.service import Reports

YEAR = Period.parse("2025")
MONEY = (("Assets:Bank", AccountType.ASSET), ("Income:Farm", AccountType.INCOME),
         ("Income:Grants", AccountType.INCOME), ("Expenses:Food", AccountType.EXPENSE),
         ("Assets:EmergencyFund", AccountType.ASSET))  # fmt: skip
CATEGORIES = ("gardening", "childcare", "repairs", "cooking", "lessons", "transport", "care")


Books = tuple[Community, list[uuid.UUID], dict[str, uuid.UUID]]


async def _community(ledger: Ledger, members: int) -> Books:
    community = await ledger.create_community(f"bench-{uuid.uuid4().hex[:10]}", "Bench")
    hours = [
        (await ledger.create_member(community.id, f"Member {i:05d}")).hours_account_id
        for i in range(members)
    ]
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    money = {
        code: (await ledger.open_account(community.id, NewAccount(code, code, kind, "EUR"))).id
        for code, kind in MONEY
    }
    return community, hours, money


def _rows(community: Community, hours: list[uuid.UUID], money: dict[str, uuid.UUID],
          exchanges: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:  # fmt: skip
    rng = random.Random(2025)
    weights = [1 + 20 // (1 + i) for i in range(len(hours))]  # a few carry many
    now = datetime.now(UTC)
    entry_rows: list[dict[str, object]] = []
    posting_rows: list[dict[str, object]] = []

    def entry(
        day: date, kind: str, metadata: dict[str, str], lines: list[tuple[uuid.UUID, str, int]]
    ) -> None:
        entry_id = new_id()
        entry_rows.append({"community_id": community.id, "id": entry_id, "status": "posted",
                           "effective_date": day, "description": "bench", "kind": kind,
                           "metadata": metadata, "created_at": now, "completed_at": now,
                           "reverses": None})  # fmt: skip
        for line, (account_id, commodity, amount) in enumerate(lines):
            posting_rows.append({"community_id": community.id, "entry_id": entry_id, "line": line,
                                 "account_id": account_id, "commodity": commodity,
                                 "amount": amount, "effective_date": day})  # fmt: skip

    for _ in range(exchanges):
        giver, receiver = rng.choices(hours, weights=weights, k=1)[0], rng.choice(hours)
        if giver == receiver:
            continue
        minutes = rng.choice((30, 60, 90, 120))
        day = YEAR.start + timedelta(days=rng.randrange(YEAR.days))
        entry(day, "exchange", {"category": rng.choice(CATEGORIES)},
              [(receiver, "HOURS", minutes), (giver, "HOURS", -minutes)])  # fmt: skip
    for day_index in range(0, YEAR.days, 3):
        day = YEAR.start + timedelta(days=day_index)
        entry(day, "general", {}, [(money["Assets:Bank"], "EUR", 12_000),
                                   (money["Income:Farm"], "EUR", -12_000)])  # fmt: skip
        entry(day, "general", {}, [(money["Expenses:Food"], "EUR", 9_000),
                                   (money["Assets:Bank"], "EUR", -9_000)])  # fmt: skip
    return entry_rows, posting_rows


async def _load(engine: AsyncEngine, community: Community,
                rows: tuple[list[dict[str, object]], list[dict[str, object]]]) -> None:  # fmt: skip
    entry_rows, posting_rows = rows
    async with engine.begin() as conn:
        for start in range(0, len(entry_rows), 5000):
            await conn.execute(entries.insert(), entry_rows[start : start + 5000])
        for start in range(0, len(posting_rows), 5000):
            await conn.execute(postings.insert(), posting_rows[start : start + 5000])
        p, a = postings.c, accounts.c
        for column, sign in ((a.debits_posted, 1), (a.credits_posted, -1)):
            total = (
                sa.select(sa.func.coalesce(sa.func.sum(sign * p.amount), 0))
                .where(p.community_id == a.community_id, p.account_id == a.id, sign * p.amount > 0)
                .scalar_subquery()
            )
            await conn.execute(
                accounts.update().where(a.community_id == community.id).values({column: total})
            )
    # Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) keeps them.
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("ANALYZE")


async def _bench(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        units = SqlUnitOfWorkFactory(engine)
        community, hours, money = await _community(Ledger(units), args.members)
        rows = _rows(community, hours, money, args.exchanges)
        await _load(engine, community, rows)
        reports, timings = Reports(units, connection_of), []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = await reports.sustainability(community, YEAR)
            body = msgspec.json.encode(report)
            timings.append(time.perf_counter() - started)
        sys.stdout.write(
            f"{name:<10} members={args.members} entries={len(rows[0])} "
            f"postings={len(rows[1])}  JSON report of {YEAR.label}: "
            f"median {statistics.median(timings) * 1000:.0f} ms, "
            f"best {min(timings) * 1000:.0f} ms ({len(body):,} bytes; "
            f"{report.time_bank.exchanges} exchanges)\n"
        )
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--exchanges", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await _bench("sqlite", f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args)
    async with fresh_database("cl_bench_report") as url:
        await _bench("postgresql", url, args)


if __name__ == "__main__":
    asyncio.run(main())
