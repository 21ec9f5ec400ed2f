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
(issue 7) is ≥ 60 % of binary COPY. No assertions.
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

from bench import baseline
from bench.databases import dsn, fresh_database
from ledger.journal_format import parse
from ledger.journal_import import JournalImport, file_digest
from ledger.model import AccountType
from ledger.service import Ledger, NewAccount, utc_now
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


_SET_BASED_BALANCE_CHECK = """
SELECT count(*) FROM (
    SELECT p.entry_id FROM postings p
    JOIN entries e ON e.community_id = p.community_id AND e.id = p.entry_id
    WHERE p.community_id = $1
    GROUP BY p.entry_id, p.commodity
    HAVING sum(p.amount) <> 0 OR bool_or(p.effective_date <> e.effective_date)
) AS bad
"""


async def _copy_into_guarded_tables(
    url: str, community_id: uuid.UUID, *, balance_triggers: bool = True
) -> float:
    """Seconds to binary-COPY the same entries and postings (fresh entry ids) into the real
    tables, foreign keys and balance triggers included, up to the deferred triggers having run
    (``SET CONSTRAINTS ALL IMMEDIATE``); rolled back. The floor our schema's guards impose."""
    connection = await asyncpg.connect(dsn(url))
    try:
        entry_rows = await connection.fetch(
            "SELECT * FROM entries WHERE community_id = $1 AND kind = 'exchange'", community_id
        )
        posting_rows = await connection.fetch(
            "SELECT * FROM postings WHERE community_id = $1", community_id
        )
        fresh = {row["id"]: uuid.uuid4() for row in entry_rows}
        entry_records = [(*tuple(r)[:1], fresh[r["id"]], *tuple(r)[2:]) for r in entry_rows]
        posting_records = [
            (*tuple(r)[:1], fresh[r["entry_id"]], *tuple(r)[2:]) for r in posting_rows
        ]
        transaction = connection.transaction()
        await transaction.start()
        if not balance_triggers:
            # What a set-based check would save: the per-row balance triggers off (inside this
            # rolled-back transaction only), one aggregate query instead.
            await connection.execute(
                "ALTER TABLE entries DISABLE TRIGGER entries_balanced;"
                "ALTER TABLE postings DISABLE TRIGGER postings_balanced"
            )
        started = time.perf_counter()
        await connection.copy_records_to_table(
            "entries", records=entry_records, columns=list(entry_rows[0].keys())
        )
        await connection.copy_records_to_table(
            "postings", records=posting_records, columns=list(posting_rows[0].keys())
        )
        await connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if not balance_triggers:
            assert await connection.fetchval(_SET_BASED_BALANCE_CHECK, community_id) == 0
        elapsed = time.perf_counter() - started
        await transaction.rollback()
    finally:
        await connection.close()
    return elapsed


async def _once(
    url: str, ledger: Ledger, args: argparse.Namespace, repeat: int
) -> dict[str, float]:
    community = await ledger.create_community(f"import-{uuid.uuid4().hex[:10]}", "Bench")
    for i in range(args.accounts):
        await ledger.open_account(
            community.id,
            NewAccount(f"m{i}", f"M{i}", AccountType.LIABILITY, "HOURS", None, -(10**9), 10**9),
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.csv"
        _journal(path, args.entries, args.accounts, seed=repeat)
        started = time.perf_counter()
        data = path.read_bytes()
        parsed = parse(path.name, data)
        parsed_at = time.perf_counter()
        importer = JournalImport(ledger.units, SqlJournalWriter.of, utc_now)
        summary = await importer.run(community.id, parsed, file_digest(data))
        elapsed = time.perf_counter() - started
    rows, copy_s = await _copy_same_postings(url, community.id)
    assert rows == summary.postings == 2 * args.entries
    guarded_s = await _copy_into_guarded_tables(url, community.id)
    fk_only_s = await _copy_into_guarded_tables(url, community.id, balance_triggers=False)
    return {
        "import_per_s": rows / elapsed,
        "guarded_copy_per_s": rows / guarded_s,
        "fk_only_copy_per_s": rows / fk_only_s,
        "parse_s": parsed_at - started,
        "check_and_write_s": elapsed - (parsed_at - started),
        "copy_per_s": rows / copy_s,
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
        "  binary COPY of the same entries+postings into the real tables, FKs and balance "
        f"triggers run: {median['guarded_copy_per_s']:>10,.0f} postings/s"
    )
    print(
        "  the same, foreign keys only, balance checked by one set-based query: "
        f"{median['fk_only_copy_per_s']:>10,.0f} postings/s"
    )
    print(
        f"  suite baseline (bench.baseline.copy_postings, 3 columns): "
        f"{suite_copy.per_s:>10,.0f} postings/s"
    )
    print(f"  ratio import / COPY (same run, median of repeats): {statistics.median(ratios):.1%}"
          f"; / suite baseline: {median['import_per_s'] / suite_copy.per_s:.1%}"
          f"; / guarded COPY: "
          f"{median['import_per_s'] / median['guarded_copy_per_s']:.1%}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
