"""Bulk import of historical entries (``commons-ledger import-journal``) against binary COPY of
the same postings, in the same run, on PostgreSQL.

    .venv/bin/python -m bench.import_journal [--entries 100000] [--accounts 1000] [--repeats 3]

Each repeat writes a CSV of N entries (two postings each, random pairs of member accounts that
carry limits, so the date-order limit replay really runs), imports it through the use case the
command runs (parse, every check, locks, COPY, net counters, idempotency, audit, commit), then
binary-COPYs the very postings it wrote into a fresh table of the postings table's shape with
its indexes (``LIKE postings INCLUDING INDEXES``: primary key and statement index, no foreign
keys or triggers) — the issue's baseline. It also runs ``bench.baseline.copy_postings`` (the
suite's three-column baseline) once. Prints medians of postings/s and the ratio; the goal
(issue 7) is ≥ 60 % of binary COPY. No assertions. What each of the real tables' guards costs
a COPY is ``bench.import_guards``'s part.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import asyncpg

from api.cli.journal import collector_paused
from bench import baseline
from bench.databases import dsn, fresh_database
from ledger.books.ports import UnitOfWork
from ledger.books.service import Ledger, NewAccount
from ledger.imports.journal_format import parse
from ledger.imports.journal_import import JournalImport, file_digest
from ledger.kernel.clock import utc_now
from ledger.kernel.model import AccountType
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.journal_import import SqlJournalWriter
from ledger.store.migrate import upgrade


def _journal(path: Path, entries: int, accounts: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = ["entry_id,date,description,kind,account_code,amount"]
    start = date(2020, 1, 1)
    for n in range(entries):
        debit, credit = rng.sample(range(accounts), 2)
        amount = rng.randint(1, 120)
        day = (start + timedelta(days=rng.randrange(1500))).isoformat()
        lines.append(f"{n},{day},Exchange {n},exchange,m{debit},{amount}")
        lines.append(f"{n},,,,m{credit},-{amount}")
    path.write_text("\n".join(lines) + "\n")


async def _copy_same_postings(url: str, community_id: uuid.UUID) -> tuple[int, float]:
    connection = await asyncpg.connect(dsn(url))
    try:
        records = await connection.fetch(
            "SELECT * FROM postings WHERE community_id = $1", community_id
        )
        table = f"b_postings_like_{uuid.uuid4().hex[:8]}"
        await connection.execute(f"CREATE TABLE {table} (LIKE postings INCLUDING INDEXES)")
        columns = list(records[0].keys())
        started = time.perf_counter()
        await connection.copy_records_to_table(
            table, records=[tuple(r) for r in records], columns=columns
        )
        elapsed = time.perf_counter() - started
        await connection.execute(f"DROP TABLE {table}")
    finally:
        await connection.close()
    return len(records), elapsed


async def _once(
    url: str, ledger: Ledger, args: argparse.Namespace, repeat: int
) -> dict[str, float]:
    community = await ledger.create_community(f"import-{uuid.uuid4().hex[:10]}", "Bench")
    for i in range(args.accounts):
        await ledger.open_account(
            community.id,
            NewAccount(f"m{i}", f"M{i}", AccountType.LIABILITY, "HOURS", None, -(10**9), 10**9),
        )
    writers: list[SqlJournalWriter] = []

    def writer(uow: UnitOfWork) -> SqlJournalWriter:
        writers.append(SqlJournalWriter.of(uow))
        return writers[-1]

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.csv"
        _journal(path, args.entries, args.accounts, seed=repeat)
        started = time.perf_counter()
        with collector_paused():  # as the command does
            data = path.read_bytes()
            parsed = parse(path.name, data)
            parsed_at = time.perf_counter()
            importer = JournalImport(ledger.units, writer, utc_now)
            summary = await importer.run(community.id, parsed, file_digest(data))
        elapsed = time.perf_counter() - started
    rows, copy_s = await _copy_same_postings(url, community.id)
    assert rows == summary.postings == 2 * args.entries
    return {
        "import_per_s": rows / elapsed,
        "parse_s": parsed_at - started,
        "check_and_write_s": elapsed - (parsed_at - started),
        "copy_per_s": rows / copy_s,
        "bulk": float(all(w.bulk for w in writers)),
    }


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    async with fresh_database("bench_import") as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            ledger = Ledger(SqlUnitOfWorkFactory(engine))
            runs = [await _once(url, ledger, args, n) for n in range(args.repeats)]
        finally:
            await engine.dispose()
        await baseline.prepare(url, args.accounts)
        suite_copy = await baseline.copy_postings(url, 2 * args.entries, args.accounts)
    median = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    ratios = [run["import_per_s"] / run["copy_per_s"] for run in runs]
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; after: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))  # fmt: skip
    print(
        f"{args.entries:,} entries, {2 * args.entries:,} postings, {args.repeats} repeats (median)"
    )
    print(
        f"  import-journal: {median['import_per_s']:>10,.0f} postings/s "
        f"(parse {median['parse_s']:.2f} s, check+write+commit {median['check_and_write_s']:.2f} s)"
    )
    print(
        f"  binary COPY of the same postings into LIKE postings: "
        f"{median['copy_per_s']:>10,.0f} postings/s"
    )
    print(
        "  writer path: "
        + ("bulk (triggers off for the COPY, one set-based check)" if median["bulk"] == 1
           else "per-row triggers")
    )  # fmt: skip
    print(
        f"  suite baseline (bench.baseline.copy_postings, 3 columns): "
        f"{suite_copy.per_s:>10,.0f} postings/s"
    )
    print(f"  ratio import / COPY (same run, median of repeats): {statistics.median(ratios):.1%}"
          f"; / suite baseline: {median['import_per_s'] / suite_copy.per_s:.1%}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
