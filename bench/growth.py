"""How the report, the trial balance and a balance read grow with history, beside raw SQL.

    .venv/bin/python -m bench.growth [--sizes 50000,500000] [--runs 5] [--profile]

For each size (exchanges; each is two postings, plus ~240 co-op entries) a fresh PostgreSQL
database is filled like ``bench.report`` (a year of a 500-member community), then it times, as
medians of ``--runs``: the JSON sustainability report of the year; ``Ledger.trial_balance`` now
(the maintained counters) and ``as_of`` the year's end (sums the postings); ``Ledger.balance``
of one account. Beside each, the raw-SQL baseline on the same tables with asyncpg: the
trial-balance GROUP BY over the community's postings, and the balance row's point read. The
report's baseline is that same raw GROUP BY (the least any report over the postings must read).
``--profile`` prints the report's slowest statements (cursor events). Prints a table and the
load average; timings vary with the machine's load: compare the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import dsn, fresh_database
from bench.report import YEAR, _community, _load, _rows
from ledger.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from reports.service import Reports


async def _median_ms(work: Callable[[], Awaitable[Any]], runs: int) -> float:
    await work()  # warm caches and prepared statements
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


class Recorder:
    """The statements the engine runs while ``active``: their durations, and the statements
    with their parameters in order (to replay them as raw SQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.active = False
        self.timings: dict[str, list[float]] = {}
        self.statements: list[tuple[str, Any]] = []
        started: dict[int, float] = {}

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if self.active:
                self.statements.append((statement, parameters))
                started[id(cursor)] = time.perf_counter()

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if id(cursor) in started:
                elapsed = (time.perf_counter() - started.pop(id(cursor))) * 1000
                self.timings.setdefault(" ".join(statement.split())[:110], []).append(elapsed)


async def _replay(url: str, statements: list[tuple[str, Any]]) -> None:
    """The report's own statements as raw SQL: one asyncpg connection, one snapshot."""
    connection = await asyncpg.connect(dsn(url))
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            for statement, parameters in statements:
                await connection.fetch(statement, *(parameters or ()))
    finally:
        await connection.close()


async def _size(url: str, exchanges: int, args: argparse.Namespace) -> dict[str, float]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        units = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(units)
        community, hours, money = await _community(ledger, args.members)
        rows = _rows(community, hours, money, exchanges)
        await _load(engine, community, rows)
        reports = Reports(units)

        async def report() -> None:
            msgspec.json.encode(await reports.sustainability(community, YEAR))

        figures = {"postings": float(len(rows[1]))}
        figures["report"] = await _median_ms(report, args.runs)
        recorder = Recorder(engine)
        recorder.active = True
        await report()
        recorder.active = False
        figures["raw_report"] = await _median_ms(
            lambda: _replay(url, recorder.statements), args.runs
        )
        figures["trial_now"] = await _median_ms(
            lambda: ledger.trial_balance(community.id), args.runs
        )
        figures["trial_as_of"] = await _median_ms(
            lambda: ledger.trial_balance(community.id, YEAR.end), args.runs
        )
        account = money["Assets:Bank"]
        figures["balance"] = await _median_ms(
            lambda: ledger.balance(community.id, account), args.runs * 20
        )
        connection = await asyncpg.connect(dsn(url))
        try:
            figures["raw_trial"] = await _median_ms(
                lambda: connection.fetch(
                    "SELECT account_id, sum(amount) FROM postings WHERE community_id = $1"
                    " GROUP BY account_id",
                    community.id,
                ),
                args.runs,
            )
            figures["raw_balance"] = await _median_ms(
                lambda: connection.fetchrow(
                    "SELECT debits_posted - credits_posted FROM accounts"
                    " WHERE community_id = $1 AND id = $2",
                    community.id,
                    account,
                ),
                args.runs * 20,
            )
        finally:
            await connection.close()
        if args.profile:
            slowest = sorted(recorder.timings.items(), key=lambda item: -sum(item[1]))[:8]
            for statement, timings in slowest:
                sys.stdout.write(f"  {sum(timings):8.1f} ms ×{len(timings)}  {statement}\n")
        return figures
    finally:
        await engine.dispose()


def _print(results: list[dict[str, float]]) -> None:
    header = ("postings", "report", "its raw SQL", "ratio", "raw GROUP BY", "trial now",
              "trial as_of", "ratio", "balance", "raw read", "ratio")  # fmt: skip
    lines = [header]
    for r in results:
        lines.append((
            f"{r['postings']:,.0f}", f"{r['report']:.0f} ms", f"{r['raw_report']:.0f} ms",
            f"×{r['report'] / r['raw_report']:.2f}", f"{r['raw_trial']:.0f} ms",
            f"{r['trial_now']:.1f} ms",
            f"{r['trial_as_of']:.0f} ms", f"×{r['trial_as_of'] / r['raw_trial']:.2f}",
            f"{r['balance']:.2f} ms", f"{r['raw_balance']:.2f} ms",
            f"×{r['balance'] / r['raw_balance']:.1f}",
        ))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        sys.stdout.write("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) + "\n")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000,500000", help="exchanges per size")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    before = os.getloadavg()
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        async with fresh_database(f"cl_bench_growth_{uuid.uuid4().hex[:4]}") as url:
            results.append(await _size(url, size, args))
        sys.stdout.write(f"done {size:,} exchanges, load {os.getloadavg()[0]:.2f}\n")
    _print(results)
    after = os.getloadavg()
    sys.stdout.write(
        f"machine: {os.cpu_count()} CPUs; load average (1, 5, 15 min) before → after: "
        f"{', '.join(f'{v:.2f}' for v in before)} → {', '.join(f'{v:.2f}' for v in after)}\n"
    )


if __name__ == "__main__":
    asyncio.run(main())
