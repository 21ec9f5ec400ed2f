"""What each of the schema's per-row guards costs a bulk COPY into the real ``entries`` and
``postings`` tables (issue 7), on a scratch PostgreSQL database of its own.

    .venv/bin/python -m bench.import_guards [--entries 100000] [--accounts 1000] [--repeats 3]

One community with ``--accounts`` accounts; N entries of two postings each, built once. Each
round binary-COPYs fresh copies of them (new entry ids) in one transaction, up to the deferred
triggers having run (``SET CONSTRAINTS ALL IMMEDIATE``), then rolls back, in these variants,
interleaved round by round:

- ``like``: the postings alone into ``LIKE postings INCLUDING INDEXES`` (issue 7's baseline);
- ``all``: everything the schema does (foreign keys, the deferred balance triggers);
- ``no_balance_triggers``: ``ALTER TABLE … DISABLE TRIGGER`` on the two balance triggers;
- ``no_fks``: the four foreign keys of the two tables dropped (inside the rolled-back
  transaction only), the balance triggers run;
- ``no_guards``: both off (``session_replication_role = replica``), nothing checked;
- ``set_based``: both off, then the import's set-based check of everything they guard
  (``ledger.store.journal_import.CHECK_IMPORTED``).

Prints medians of postings/s and each variant's share of the ``like`` rate. No assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench.databases import dsn, fresh_database
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, new_id
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.journal_import import CHECK_IMPORTED, ENTRY_COLUMNS, POSTING_COLUMNS
from ledger.store.migrate import upgrade

_FOREIGN_KEYS = {
    "postings": (
        "fk_postings_community_id_account_id_commodity_accounts",
        "fk_postings_community_id_entry_id_entries",
    ),
    "entries": ("fk_entries_community_id_communities", "fk_entries_community_id_reverses_entries"),
}

Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _rows(community_id: uuid.UUID, accounts: list[uuid.UUID], entries: int, seed: int) -> Rows:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    entry_rows, posting_rows = [], []
    for n in range(entries):
        entry_id = new_id()
        day = date(2020, 1, 1) + timedelta(days=rng.randrange(1500))
        debit, credit = rng.sample(accounts, 2)
        amount = rng.randint(1, 120)
        text = f"Exchange {n}"
        entry_rows.append(
            (community_id, entry_id, "posted", day, text, "exchange", "{}", now, now, None)
        )
        posting_rows.append((community_id, entry_id, 0, debit, "HOURS", amount, day))
        posting_rows.append((community_id, entry_id, 1, credit, "HOURS", -amount, day))
    return entry_rows, posting_rows


async def _like(connection: asyncpg.Connection, rows: Rows, _: uuid.UUID) -> float:
    table = f"b_postings_like_{uuid.uuid4().hex[:8]}"
    await connection.execute(f"CREATE TABLE {table} (LIKE postings INCLUDING INDEXES)")
    started = time.perf_counter()
    await connection.copy_records_to_table(table, records=rows[1], columns=POSTING_COLUMNS)
    return time.perf_counter() - started


async def _into_real_tables(
    connection: asyncpg.Connection,
    rows: Rows,
    community_id: uuid.UUID,
    *,
    prepare: str = "",
    check: bool = False,
) -> float:
    await connection.execute(prepare) if prepare else None
    started = time.perf_counter()
    await connection.copy_records_to_table("entries", records=rows[0], columns=ENTRY_COLUMNS)
    await connection.copy_records_to_table("postings", records=rows[1], columns=POSTING_COLUMNS)
    await connection.execute("SET LOCAL session_replication_role = origin")
    await connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
    if check:
        accounts = list({row[3] for row in rows[1]})
        found = await connection.fetchrow(
            CHECK_IMPORTED, community_id, [row[1] for row in rows[0]], accounts
        )
        assert found is not None and found["postings"] == len(rows[1]), found
        assert not (found["unbalanced"] or found["foreign"]), found
    return time.perf_counter() - started


_DROP_FKS = ";".join(
    f"ALTER TABLE {table} DROP CONSTRAINT {name}"
    for table, names in _FOREIGN_KEYS.items()
    for name in names
)
_NO_BALANCE = (
    "ALTER TABLE entries DISABLE TRIGGER entries_balanced;"
    "ALTER TABLE postings DISABLE TRIGGER postings_balanced"
)
_REPLICA = "SET LOCAL session_replication_role = replica"

Variant = Callable[[asyncpg.Connection, Rows, uuid.UUID], Awaitable[float]]
VARIANTS: dict[str, Variant] = {
    "like": _like,
    "all": _into_real_tables,
    "no_balance_triggers": lambda c, r, i: _into_real_tables(c, r, i, prepare=_NO_BALANCE),
    "no_fks": lambda c, r, i: _into_real_tables(c, r, i, prepare=_DROP_FKS),
    "no_guards": lambda c, r, i: _into_real_tables(c, r, i, prepare=_REPLICA),
    "set_based": lambda c, r, i: _into_real_tables(c, r, i, prepare=_REPLICA, check=True),
}


async def _round(url: str, variant: Variant, rows: Rows, community_id: uuid.UUID) -> float:
    connection = await asyncpg.connect(dsn(url))
    try:
        # The rounds before left dead rows and index entries behind: each starts clean.
        await connection.execute("VACUUM entries, postings")
        transaction = connection.transaction()
        await transaction.start()
        try:
            return await variant(connection, rows, community_id)
        finally:
            await transaction.rollback()
    finally:
        await connection.close()


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    async with fresh_database("bench_guards") as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            ledger = Ledger(SqlUnitOfWorkFactory(engine))
            community = await ledger.create_community(f"g-{uuid.uuid4().hex[:8]}", "Guards")
            accounts = [
                (await ledger.open_account(community.id, new)).id
                for new in (
                    NewAccount(f"m{i}", f"M{i}", AccountType.LIABILITY, "HOURS")
                    for i in range(args.accounts)
                )
            ]
        finally:
            await engine.dispose()
        timings: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for repeat in range(args.repeats):
            for name, variant in VARIANTS.items():
                rows = _rows(community.id, accounts, args.entries, seed=repeat)
                timings[name].append(await _round(url, variant, rows, community.id))
    postings = 2 * args.entries
    like = postings / statistics.median(timings["like"])
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load)}; after: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))  # fmt: skip
    print(f"{args.entries:,} entries, {postings:,} postings, {args.repeats} interleaved rounds")
    for name, seconds in timings.items():
        rate = postings / statistics.median(seconds)
        print(f"  {name:<20} {rate:>10,.0f} postings/s  {rate / like:6.1%} of like  "
              f"(median {statistics.median(seconds):.2f} s)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
