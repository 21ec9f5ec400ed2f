"""How the report, the trial balance and a balance read grow with history, beside raw SQL.

    .venv/bin/python -m bench.growth [--sizes 50000,500000,2500000] [--years 1 | 1,10,50]
        [--engine postgresql|sqlite|both] [--runs 5] [--profile] [--json FILE]

For each size (exchanges; each is two postings, plus two co-op entries every third day) a fresh
database is filled with a 500-member community (through the service) and its history (bulk:
``bench.growth_seed``, COPY on PostgreSQL), spread over ``--years`` ending with the report's year
2025 (one figure for all sizes, or one per size: ``--sizes 50000,500000,2500000 --years 1,10,50``
keeps the report's year near 100k postings while the history grows). Then it times, as medians
of ``--runs``: the JSON sustainability report of 2025; ``Ledger.trial_balance`` now (the
maintained counters) and ``as_of`` the year's end; ``Ledger.balance`` of one account. Beside
each, in alternation run by run, raw SQL on the same tables (asyncpg, or a plain ``sqlite3``
connection): the report's own statements replayed in one snapshot, the trial balance's
``GROUP BY`` over the community's postings (the least a trial balance summed from the postings
must read, and a fixed yardstick for the report), and the balance row's point read.
``--profile`` prints the report's slowest statements. Prints a table and the load average;
timings vary with the machine's load: compare the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import growth_seed
from bench.databases import dsn, fresh_database
from bench.report import YEAR, Books, _community
from ledger.books.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.store.scoped import connection_of
from reports.service import Reports


async def median_ms(work: Callable[[], Awaitable[Any]], runs: int) -> float:
    """The median of ``runs`` timings of ``work``, in ms, after one run to warm up."""
    await work()  # warm caches and prepared statements
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def _paired(
    service: Callable[[], Awaitable[Any]], raw: Callable[[], Awaitable[Any]], runs: int
) -> tuple[float, float]:
    """Medians of ``runs`` timings each of the service's call and its raw SQL, alternating."""
    await service()  # warm caches and prepared statements
    await raw()
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for work, found in ((service, timings[0]), (raw, timings[1])):
            started = time.perf_counter()
            await work()
            found.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings[0]), statistics.median(timings[1])


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


class PostgresRaw:
    """Raw SQL on PostgreSQL: one asyncpg connection beside the service's pool."""

    trial = (
        "SELECT account_id, sum(amount) FROM postings WHERE community_id = $1 GROUP BY account_id"
    )
    point = (
        "SELECT debits_posted - credits_posted FROM accounts WHERE community_id = $1 AND id = $2"
    )

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._conn = connection

    @staticmethod
    def id(value: uuid.UUID) -> Any:
        return value

    async def fetch(self, statement: str, *parameters: Any) -> None:
        await self._conn.fetch(statement, *parameters)

    async def replay(self, statements: list[tuple[str, Any]]) -> None:
        """The report's own statements in one read-only snapshot, as the service reads."""
        async with self._conn.transaction(isolation="repeatable_read", readonly=True):
            for statement, parameters in statements:
                await self._conn.fetch(statement, *(parameters or ()))


class SqliteRaw:
    """Raw SQL on SQLite: one plain ``sqlite3`` connection, in the benchmark's thread (no
    worker-thread hand-off: the least any Python caller pays)."""

    trial = (
        "SELECT account_id, sum(amount) FROM postings WHERE community_id = ? GROUP BY account_id"
    )
    point = "SELECT debits_posted - credits_posted FROM accounts WHERE community_id = ? AND id = ?"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    @staticmethod
    def id(value: uuid.UUID) -> Any:
        return value.hex

    async def fetch(self, statement: str, *parameters: Any) -> None:
        self._conn.execute(statement, parameters).fetchall()

    async def replay(self, statements: list[tuple[str, Any]]) -> None:
        """The report's own statements in one deferred transaction (one snapshot)."""
        self._conn.execute("BEGIN")
        try:
            for statement, parameters in statements:
                if statement.startswith("BEGIN"):
                    continue  # the engine's own BEGIN, recorded with the report's statements
                self._conn.execute(statement, parameters or ()).fetchall()
        finally:
            self._conn.execute("ROLLBACK")


@asynccontextmanager
async def _raw(engine_name: str, url: str) -> AsyncIterator[PostgresRaw | SqliteRaw]:
    if engine_name == "postgresql":
        connection = await asyncpg.connect(dsn(url))
        try:
            yield PostgresRaw(connection)
        finally:
            await connection.close()
    else:
        lite = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        try:
            yield SqliteRaw(lite)
        finally:
            lite.close()


async def _seed(engine_name: str, url: str, books: Books, exchanges: int, years: int) -> int:
    community, hours, money = books
    chunks = growth_seed.generate(community, hours, money, exchanges, years)
    if engine_name == "postgresql":
        return await growth_seed.load_postgresql(dsn(url), community.id, chunks)
    path = make_url(url).database or ""
    return await asyncio.to_thread(growth_seed.load_sqlite, path, community.id, chunks)


async def _size(engine_name: str, url: str, exchanges: int, years: int,
                args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    engine = create_engine(url)
    try:
        await upgrade(engine)
        units = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(units)
        books = await _community(ledger, args.members)
        community, _, money = books
        started = time.perf_counter()
        postings = await _seed(engine_name, url, books, exchanges, years)
        seeded = time.perf_counter() - started
        sys.stdout.write(f"{engine_name}: seeded {postings:,} postings in {seeded:.0f} s\n")
        reports = Reports(units, connection_of)

        async def report() -> None:
            msgspec.json.encode(await reports.sustainability(community, YEAR))

        figures: dict[str, Any] = {"engine": engine_name, "postings": postings,
                                   "years": years, "seed_s": round(seeded, 1)}  # fmt: skip
        account = money["Assets:Bank"]
        async with _raw(engine_name, url) as raw:
            recorder = Recorder(engine)
            recorder.active = True
            await report()
            recorder.active = False
            # The service and its raw SQL alternate, run by run: a burst of load from the
            # machine's other users falls on both alike.
            figures["report"], figures["raw_report"] = await _paired(
                report, lambda: raw.replay(recorder.statements), args.runs
            )
            cid = raw.id(community.id)
            figures["trial_as_of"], figures["raw_trial"] = await _paired(
                lambda: ledger.trial_balance(community.id, YEAR.end),
                lambda: raw.fetch(raw.trial, cid),
                args.runs,
            )
            figures["trial_now"] = await median_ms(
                lambda: ledger.trial_balance(community.id), args.runs
            )
            figures["balance"], figures["raw_balance"] = await _paired(
                lambda: ledger.balance(community.id, account),
                lambda: raw.fetch(raw.point, cid, raw.id(account)),
                args.runs * 20,
            )
        if args.profile:
            recorder.timings.clear()
            recorder.active = True
            await report()
            recorder.active = False
            slowest = sorted(recorder.timings.items(), key=lambda item: -sum(item[1]))[:8]
            for statement, timings in slowest:
                sys.stdout.write(f"  {sum(timings):8.1f} ms ×{len(timings)}  {statement}\n")
        return figures
    finally:
        await engine.dispose()


def _print(results: list[dict[str, Any]]) -> None:
    header = ("engine", "postings", "years", "report", "its raw SQL", "ratio", "raw GROUP BY",
              "trial now", "trial as_of", "ratio", "balance", "raw read", "ratio")  # fmt: skip
    lines = [header]
    for r in results:
        lines.append((
            r["engine"], f"{r['postings']:,.0f}", str(r["years"]), f"{r['report']:.0f} ms",
            f"{r['raw_report']:.0f} ms", f"×{r['report'] / r['raw_report']:.2f}",
            f"{r['raw_trial']:.0f} ms", f"{r['trial_now']:.1f} ms",
            f"{r['trial_as_of']:.0f} ms", f"×{r['trial_as_of'] / r['raw_trial']:.2f}",
            f"{r['balance']:.2f} ms", f"{r['raw_balance']:.3f} ms",
            f"×{r['balance'] / r['raw_balance']:.1f}",
        ))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        sys.stdout.write("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) + "\n")


@asynccontextmanager
async def _database(engine_name: str) -> AsyncIterator[str]:
    if engine_name == "postgresql":
        async with fresh_database("cl_bench_growth") as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="cl_bench_growth_") as folder:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'growth.db'}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="50000,500000", help="exchanges per size (2 postings each)"
    )
    parser.add_argument("--engine", choices=("postgresql", "sqlite", "both"), default="postgresql")
    parser.add_argument("--years", default="1",
                        help="years of history ending with the report's year: one for every"
                             " size, or one per size")  # fmt: skip
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    engines = ("postgresql", "sqlite") if args.engine == "both" else (args.engine,)
    before = os.getloadavg()
    started = datetime.now(UTC)
    results: list[dict[str, Any]] = []
    sizes = [int(s) for s in args.sizes.split(",")]
    years = [int(y) for y in args.years.split(",")]
    for size, history in zip(sizes, years * len(sizes) if len(years) == 1 else years, strict=True):
        for engine_name in engines:
            async with _database(engine_name) as url:
                figures = await _size(engine_name, url, size, history, args)
            figures["load_after"] = round(os.getloadavg()[0], 2)
            results.append(figures)
            sys.stdout.write(f"done {engine_name} {size:,} exchanges over {history} years\n")
            _print(results[-1:])
            if args.json:  # after every size: a long run cut short keeps what it measured
                _write(args.json, started, before, results)
    _print(results)
    after = os.getloadavg()
    sys.stdout.write(
        f"machine: {os.cpu_count()} CPUs; load average (1, 5, 15 min) before → after: "
        f"{', '.join(f'{v:.2f}' for v in before)} → {', '.join(f'{v:.2f}' for v in after)}\n"
    )


def _write(
    path: Path, started: datetime, before: tuple[float, ...], results: list[dict[str, Any]]
) -> None:
    run = {"started": started.isoformat(timespec="seconds"),
           "finished": datetime.now(UTC).isoformat(timespec="seconds"),
           "command": " ".join(sys.argv), "cpus": os.cpu_count(),
           "load_before": [round(v, 2) for v in before],
           "load_after": [round(v, 2) for v in os.getloadavg()], "results": results}  # fmt: skip
    path.write_text(json.dumps(run, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
