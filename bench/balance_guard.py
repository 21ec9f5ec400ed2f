"""What PostgreSQL's deferred balance guard costs a commit: rounds with it, with it as it was
before migration 0025, and without it, alternating.

    .venv/bin/python -m bench.balance_guard [--entries 100] [--rounds 10]

Each round writes ``--entries`` two-posting entries and their postings in one statement, as the
write path does (``ledger.store.entries.INSERT_WITH_POSTINGS``), and commits. The guard
(``ledger_assert_entry_balanced``, run at commit by the constraint triggers ``entries_balanced``
and ``postings_balanced``) checks each entry once since migration 0025 (a posting written by its
entry's command is skipped); "before 0025" puts back the posting trigger that checked the entry
again for every posting; "triggers off" is the floor. Prints the median commit and
whole-transaction time of each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg

from bench.databases import dsn, fresh_database
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade

_TRIGGERS = (("entries", "entries_balanced"), ("postings", "postings_balanced"))
_POSTING_TRIGGER = "SELECT pg_get_functiondef(CAST('ledger_posting_balanced' AS regproc))"
_BEFORE_0025 = """
CREATE OR REPLACE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_assert_entry_balanced(NEW.community_id, NEW.entry_id);
    RETURN NULL;
END $$;
"""
_WRITE = """
WITH new_entries AS (
    INSERT INTO entries (community_id, id, status, effective_date, description, kind, metadata,
                         created_at, completed_at)
    SELECT $1, id, 'posted', $2, '', 'transfer', '{}', $3, $3 FROM unnest($4::uuid[]) AS id)
INSERT INTO postings (community_id, entry_id, line, account_id, commodity, amount, effective_date)
SELECT $1, e, l, a, 'HOURS', m, $2
FROM unnest($5::uuid[], $6::smallint[], $7::uuid[], $8::bigint[]) AS t(e, l, a, m)
"""


async def _switch(connection: asyncpg.Connection, how: str) -> None:
    for table, trigger in _TRIGGERS:
        await connection.execute(f"ALTER TABLE {table} {how} TRIGGER {trigger}")


async def _seed(url: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.create_community("bench", "Bench")
        accounts = [
            (
                await ledger.open_account(
                    community.id,
                    NewAccount(f"Assets:A{i:04}", f"A{i}", AccountType.ASSET, "HOURS"),
                )
            ).id
            for i in range(200)
        ]
    finally:
        await engine.dispose()
    return community.id, accounts


async def _round(
    connection: asyncpg.Connection, community: uuid.UUID, accounts: list[uuid.UUID], count: int
) -> tuple[float, float]:
    today, now = date.today(), datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(count)]
    started = time.perf_counter()
    columns: tuple[list[object], ...] = ([], [], [], [])
    for n, entry in enumerate(ids):
        debit, credit = accounts[n % 200], accounts[(n * 7 + 1) % 200]
        for column, values in zip(
            columns, ((entry, entry), (0, 1), (debit, credit), (5, -5)), strict=True
        ):
            column.extend(values)
    transaction = connection.transaction()
    await transaction.start()
    await connection.execute(_WRITE, community, today, now, ids, *columns)
    committing = time.perf_counter()
    await transaction.commit()
    done = time.perf_counter()
    return (done - committing) * 1000, (done - started) * 1000


async def main(entries: int, rounds: int) -> None:
    async with fresh_database("cl_bench_guard") as url:
        community, accounts = await _seed(url)
        connection = await asyncpg.connect(dsn(url))
        try:
            now_guard = await connection.fetchval(_POSTING_TRIGGER)
            timings: dict[str, list[tuple[float, float]]] = {
                "guard on": [], "before 0025": [], "triggers off": []
            }  # fmt: skip
            for _ in range(rounds):
                timings["guard on"].append(await _round(connection, community, accounts, entries))
                await connection.execute(_BEFORE_0025)
                timings["before 0025"].append(
                    await _round(connection, community, accounts, entries)
                )
                await connection.execute(now_guard)
                await _switch(connection, "DISABLE")
                timings["triggers off"].append(
                    await _round(connection, community, accounts, entries)
                )
                await _switch(connection, "ENABLE")
        finally:
            await connection.close()
    print(f"{entries} two-posting entries per transaction, medians of {rounds} rounds:")
    for name, found in timings.items():
        commit = statistics.median(t[0] for t in found)
        whole = statistics.median(t[1] for t in found)
        print(f"  {name:14} commit {commit:8.1f} ms   whole transaction {whole:8.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.entries, arguments.rounds))
