"""The Python CPU one balance read costs inside the application, without HTTP server or network:
the ASGI app is called directly (as uvicorn would, minus parsing and socket writes) with ten
reads in flight, on a fresh PostgreSQL database, and the process's CPU time is divided by the
requests. Steadier than a live run on a shared machine (PostgreSQL's own CPU is not counted),
so it attributes costs to middleware and handler code.

    .venv/bin/python -m bench.request_cost [--requests 20000] [--profile] [--rate-limit]
    .venv/bin/python -m bench.request_cost --pieces [--rounds 4]

``--profile`` prints cProfile's top functions by own time; ``--rate-limit`` keeps the default
limit of requests per token (off in the load benchmarks). ``--pieces`` splits the read's cost,
each piece measured in alternating rounds (medians): the account row straight from asyncpg on a
held connection, the use case (``Ledger.account_balance``:
the unit of work, its pooled connection and the statement), and the whole request through the
ASGI app; the differences are the unit of work's and the HTTP layers' own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from api.app import create_app
from api.server import settled
from api.settings import Settings
from bench import service_load
from bench.databases import fresh_database
from bench.service_load import Books
from ledger.store.tables import accounts

_ACCOUNT_ROW = (
    f"SELECT {', '.join(column.name for column in accounts.c)} FROM accounts"  # noqa: S608
    " WHERE community_id = $1 AND id = $2"
)
"""The balance read's statement, as ``ledger.store.accounts`` sends it to the driver."""

CLIENTS = 10
"""Reads in flight: the pool's ten connections, so that pool waits do not blur the figure."""


def _scope(path: str, token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"user-agent", b"bench"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _request(app: Any, path: str, token: str) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(path, token), receive, send)
    return status


async def _drive(app: Any, books: Books, requests: int, clients: int = CLIENTS) -> None:
    paths = [f"{books.base}/accounts/{account}/balance" for account in books.account_ids]
    remaining = requests

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            status = await _request(app, random.choice(paths), books.token)
            assert status == 200, status

    await asyncio.gather(*(client() for _ in range(clients)))


async def _cpu_per_call(call: Callable[[int], Awaitable[object]], calls: int) -> float:
    """µs of this process's CPU per ``call``, ``CLIENTS`` of them in flight (each with its
    index)."""
    remaining = calls

    async def client(index: int) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call(index)

    cpu = time.process_time()
    await asyncio.gather(*(client(index) for index in range(CLIENTS)))
    return (time.process_time() - cpu) / calls * 1e6


async def _pieces(app: Any, books: Books, calls: int, rounds: int) -> None:
    services = app.state.services
    await _drive(app, books, 2_000)  # warm, and the community is now cached by slug
    community = services.communities_by_slug["bench"]
    ids = [uuid.UUID(account) for account in books.account_ids]
    paths = [f"{books.base}/accounts/{account}/balance" for account in books.account_ids]

    async def rows(calls: int) -> float:
        # Connections held for this round only, so that the other pieces find the whole pool.
        held = [await services.engine.connect() for _ in range(CLIENTS)]
        try:
            drivers: list[Any] = [(await c.get_raw_connection()).driver_connection for c in held]

            async def row(index: int) -> object:
                return await drivers[index].fetchrow(_ACCOUNT_ROW, community.id, random.choice(ids))

            return await _cpu_per_call(row, calls)
        finally:
            for connection in held:
                await connection.close()

    async def use_case(_: int) -> object:
        return await services.ledger.account_balance(community.id, random.choice(ids))

    async def request(_: int) -> object:
        return await _request(app, random.choice(paths), books.token)

    pieces: dict[str, Callable[[int], Awaitable[float]]] = {
        "the row from asyncpg, on a held connection": rows,
        "the use case (unit of work, pool, statement)": partial(_cpu_per_call, use_case),
        "the whole request (ASGI app)": partial(_cpu_per_call, request),
    }
    figures: dict[str, list[float]] = {name: [] for name in pieces}
    for _ in range(rounds):
        for name, piece in pieces.items():
            figures[name].append(await piece(calls))
    for name, values in figures.items():
        sys.stdout.write(
            f"{name:46} {statistics.median(values):6.0f} µs CPU "
            f"(rounds: {', '.join(f'{v:.0f}' for v in values)})\n"
        )


async def _lifespan(app: Any, body: Callable[[], Awaitable[None]]) -> None:
    """Runs ``body`` inside the app's lifespan (start-up and shutdown as a server runs them)."""
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await messages.put({"type": "lifespan.startup"})
    started, stopped = asyncio.Event(), asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await messages.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()
        elif message["type"].startswith("lifespan.shutdown"):
            stopped.set()

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    await started.wait()
    try:
        await body()
    finally:
        await messages.put({"type": "lifespan.shutdown"})
        await stopped.wait()
        await task


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rate-limit", action="store_true")
    parser.add_argument("--sort", choices=("tottime", "cumulative"), default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--callers", help="also print who calls the functions matching this")
    parser.add_argument("--pieces", action="store_true", help="split the cost (see above)")
    parser.add_argument("--rounds", type=int, default=4, help="with --pieces")
    args = parser.parse_args()
    async with fresh_database("cl_bench_cost") as url:
        books = await service_load.seed(url, args.accounts)
        settings = replace(
            Settings.from_env({"COMMONS_LEDGER_DATABASE_URL": url}),
            jobs_interval_s=0,
            rate_limit_per_s=200 if args.rate_limit else 0,
        )
        app = settled(create_app(settings))  # as the server runs it (api.server)

        async def body() -> None:
            if args.pieces:
                await _pieces(app, books, args.requests // 4, args.rounds)
                return
            await _drive(app, books, 2_000)  # warm: connections, prepared statements, caches
            profiler = cProfile.Profile() if args.profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            await _drive(app, books, args.requests)
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            sys.stdout.write(
                f"{args.requests} balance reads: {cpu / args.requests * 1e6:.0f} µs CPU each, "
                f"{args.requests / wall:,.0f}/s in one process\n"
            )
            if profiler is not None:
                out = io.StringIO()
                if args.callers:
                    pstats.Stats(profiler, stream=out).print_callers(args.callers)
                pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
                sys.stdout.write(out.getvalue())

        await _lifespan(app, body)


if __name__ == "__main__":
    asyncio.run(main())
