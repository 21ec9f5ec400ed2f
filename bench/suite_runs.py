"""The suite's measurements, each scenario in two states of the install, for the service and for
the pgbench baselines alike:

- **fresh**: the scenario alone on its own copy of the just-seeded database (``CREATE DATABASE …
  TEMPLATE``, or a copy of the SQLite file), with a server just started — no history, no cached
  plans, cold caches: what a new install or a restarted one sees first.
- **steady**: one copy, first warmed up by random single transfers for as long as a scenario
  runs (not measured), then every scenario in turn: a server that has been running, a database
  that has grown under it.

Where transfers are measured, PostgreSQL's own CPU per transfer is recorded beside the rate
(``bench.pg_cpu``: its backends' CPU while the load runs), for the service and each baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy.engine import make_url

from bench import baseline, service_load
from bench.baseline import Rate
from bench.databases import copy_of
from bench.pg_cpu import BackendCpu
from bench.service_load import Books, Load, Server

STATES = ("fresh", "steady")
BATCH = 100
"""Transfers per request of the batch scenario, as in the baseline's batches."""

T = TypeVar("T")
C = TypeVar("C")


@dataclass(frozen=True)
class Found(Generic[T]):
    """One scenario in one state: what was measured, and PostgreSQL's CPU milliseconds per
    transfer while it ran (None where it was not recorded)."""

    result: T
    pg_cpu_ms: float | None = None


Scenario = Callable[[C], Found[T]]
Results = dict[str, dict[str, Found[T]]]
"""state → scenario → found."""


@contextlib.asynccontextmanager
async def _copy(template: str, prefix: str) -> AsyncIterator[str]:
    if make_url(template).get_backend_name() != "sqlite":
        async with copy_of(template, prefix) as url:
            yield url
        return
    source = Path(make_url(template).database or "")
    target = source.with_name(f"{prefix}-{uuid.uuid4().hex[:10]}.db")
    shutil.copyfile(source, target)
    try:
        yield make_url(template).set(database=str(target)).render_as_string(hide_password=False)
    finally:
        target.unlink(missing_ok=True)


async def in_states(
    template: str,
    prefix: str,
    scenarios: Mapping[str, Scenario[C, T]],
    opened: Callable[[str], contextlib.AbstractContextManager[C]],
    warm_up: Callable[[C], object],
) -> Results[T]:
    """Every scenario fresh (each on its own copy of ``template``), then all of them in steady
    state (one copy, after ``warm_up``). ``opened(url)`` gives what a scenario runs against."""
    found: Results[T] = {state: {} for state in STATES}
    for name, scenario in scenarios.items():
        async with _copy(template, prefix) as url:
            with opened(url) as context:
                found["fresh"][name] = scenario(context)
    async with _copy(template, prefix) as url:
        with opened(url) as context:
            warm_up(context)
            for name, scenario in scenarios.items():
                found["steady"][name] = scenario(context)
    return found


def watched(url: str, measure: Callable[[], tuple[T, float]], seconds: int) -> Found[T]:
    """``measure()`` (its result, and transfers per second) run while the database's backends
    are watched: the result, and PostgreSQL's CPU milliseconds per transfer."""
    with BackendCpu(url) as cpu:
        result, per_s = measure()
    return Found(result, cpu.seconds * 1000 / max(per_s * seconds, 1))


def baselines(args: argparse.Namespace) -> dict[str, Scenario[str, Rate]]:
    """The pgbench scenarios of ``args.part``, each given the database's URL."""

    def script(name: str, clients: int, per_run: int = 1) -> Scenario[str, Rate]:
        def run(url: str) -> Rate:
            rate = baseline.pgbench(
                url, name, clients=clients, seconds=args.seconds, accounts=args.accounts
            )
            return Rate(rate.per_s * per_run, rate.p50_ms, rate.p99_ms)

        if name == "balance_read.sql":
            return lambda url: Found(run(url))
        return lambda url: watched(url, lambda: (rate := run(url), rate.per_s), args.seconds)

    found = {"transfer_batch_100_8": script("transfer_batch.sql", 8, BATCH)}
    if args.part == "batch":
        return found
    return found | {
        "transfer_statements_32": script("transfer_statements.sql", 32),
        "transfer_function_32": script("transfer_function.sql", 32),
        "transfer_hot_32": script("transfer_hot.sql", 32),
        "balance_read_32": script("balance_read.sql", 32),
    }


def baseline_warm_up(args: argparse.Namespace) -> Callable[[str], object]:
    def run(url: str) -> object:
        return baseline.pgbench(
            url, "transfer_statements.sql", clients=32, seconds=args.seconds, accounts=args.accounts
        )

    return run


@dataclass(frozen=True)
class Serving:
    """A server on one copy of the seeded books, and where the load's account ids are."""

    server: Server
    books: Books
    ids: Path


def serving(
    books: Books, ids: Path, log: Path
) -> Callable[[str], contextlib.AbstractContextManager[Serving]]:
    """``opened`` for :func:`in_states`: the service started on the copy at a URL."""

    @contextlib.contextmanager
    def opened(url: str) -> Iterator[Serving]:
        copy = Books(books.base, books.token, books.account_ids, books.hot_account_id, url)
        with service_load.serving(url, log) as server:
            yield Serving(server, copy, ids)

    return opened


def _post(
    at: Serving, script: str, path: str, extra: list[str], *, clients: int, seconds: int
) -> Load:
    cpu, children = at.server.cpu_s(), service_load.children_cpu_s()
    process = service_load.wrk(
        at.server, script, path, [str(at.ids), at.books.token, *extra],
        clients=clients, seconds=seconds,
    )  # fmt: skip
    load = service_load.measured(at.server, process, cpu, children)
    at.server.settle()  # the next scenario starts on an idle server
    return load


def service(args: argparse.Namespace, *, sqlite: bool) -> dict[str, Scenario[Serving, Load]]:
    """The service's scenarios of ``args.part`` (on SQLite: single transfers, 8 clients)."""
    seconds = args.seconds

    def transfers(clients: int, hot: bool = False, per: int = 1) -> Scenario[Serving, Load]:
        def run(at: Serving) -> tuple[Load, float]:
            if per > 1:
                path, script = f"{at.books.base}/transfers:batch", "batch.lua"
                load = _post(at, script, path, [str(per)], clients=clients, seconds=seconds)
            else:
                path, extra = f"{at.books.base}/transfers", [at.books.hot_account_id] if hot else []
                load = _post(at, "transfers.lua", path, extra, clients=clients, seconds=seconds)
            return load, load.rate.per_s * per

        if sqlite or (hot and clients == 8):
            return lambda at: Found(run(at)[0])
        return lambda at: watched(at.books.url, lambda: run(at), seconds)

    if sqlite:
        return {} if args.part == "batch" else {"transfers_random_8": transfers(8)}
    found: dict[str, Scenario[Serving, Load]] = {}
    if args.part in {"all", "batch"}:
        found["transfers_batch_100_8"] = transfers(8, per=BATCH)
    if args.part == "batch":
        return found
    return found | {
        "transfers_random_32": transfers(32),
        "transfers_hot_8": transfers(8, hot=True),
        "transfers_hot_32": transfers(32, hot=True),
        "balance_reads_32_under_writes": lambda at: Found(_reads_under_writes(at, seconds)),
    }


def _reads_under_writes(at: Serving, seconds: int) -> Load:
    """Balance reads by 32 clients while eight keep posting transfers."""
    cpu, children = at.server.cpu_s(), service_load.children_cpu_s()
    writers = service_load.writers(at.server, at.books, at.ids, seconds=seconds)
    readers = service_load.wrk(
        at.server, "balances.lua", f"{at.books.base}/accounts", [str(at.ids), at.books.token],
        clients=32, seconds=seconds,
    )  # fmt: skip
    load = service_load.measured(at.server, readers, cpu, children)
    writers.communicate()
    at.server.settle()
    return load


def service_warm_up(args: argparse.Namespace, clients: int) -> Callable[[Serving], object]:
    def run(at: Serving) -> object:
        path = f"{at.books.base}/transfers"
        return _post(at, "transfers.lua", path, [], clients=clients, seconds=args.seconds)

    return run
