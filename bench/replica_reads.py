"""What a short read costs when it may come from the streaming replica: an account statement and
the member page's community figures, read on the primary or through the replica's factory.

    .venv/bin/python -m bench.replica_reads [--seconds 5] [--rounds 3] [--readers 4]

A throw-away primary cluster and a hot standby of it (``bench.clusters``), a community whose
member has ``--exchanges`` confirmed exchanges this month. In-process, without HTTP, ``--readers``
tasks read for ``--seconds``, in alternating rounds, in two conditions: through the plain unit of
work factory (the primary), and through ``ReplicaUnitOfWorkFactory`` (the wait for the standby to
replay the primary's flushed WAL, then the read on the standby). Each runs alone, then with a
writer process posting entries to another community meanwhile (so the standby has always
something to replay). Per read: the median latency, this process's CPU (Python's cost), and the
backend CPU of the primary and of the standby (``bench.pg_cpu``).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from multiprocessing.synchronize import Event

from bench.clusters import standby_of, throwaway_cluster
from bench.pg_cpu import BackendCpu
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, Member, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.store.replica import ReplicaUnitOfWorkFactory
from ledger.timebank.exchanges import EXCHANGE_KIND
from ledger.timebank.member_overview import MemberOverview

READS = ("statement", "community figures")
CONDITIONS = ("primary", "replica")


@dataclass
class Seeded:
    community_id: uuid.UUID
    account_id: uuid.UUID


def help_entry(giver: Member, receiver: Member, minutes: int) -> NewEntry:
    """A confirmed exchange of ``minutes`` of help from ``giver`` to ``receiver`` (also the
    replica fault tests' write)."""
    return NewEntry(
        (
            PostingSpec(receiver.hours_account_id, minutes),
            PostingSpec(giver.hours_account_id, -minutes),
        ),
        description="help",
        effective_date=date.today(),
        kind=EXCHANGE_KIND,
        metadata={
            "provider_member_id": str(giver.id),
            "receiver_member_id": str(receiver.id),
            "category": None,
        },
    )


async def _seed(url: str, exchanges: int) -> Seeded:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.create_community("reads", "Reads")
        ann, bob = [
            await ledger.create_member(community.id, name, hours_min=-(10**9))
            for name in ("Ann", "Bob")
        ]
        for n in range(exchanges):
            giver, receiver = (ann, bob) if n % 2 else (bob, ann)
            await ledger.post_entry(community.id, help_entry(giver, receiver, 30))
    finally:
        await engine.dispose()
    return Seeded(community.id, ann.hours_account_id)


def _write(url: str, stop: Event) -> None:
    """A writer process: one entry after another into a community of its own until ``stop``."""

    async def run() -> None:
        engine = create_engine(url)
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.create_community(f"w-{uuid.uuid4().hex[:8]}", "Writer")
        a, b = [
            await ledger.open_account(
                community.id, NewAccount(f"Liabilities:{n}", n, AccountType.LIABILITY, "HOURS")
            )
            for n in ("A", "B")
        ]
        entry = NewEntry((PostingSpec(a.id, 5), PostingSpec(b.id, -5)), description="w")
        while not stop.is_set():
            await ledger.post_entry(community.id, entry)
        await engine.dispose()

    asyncio.run(run())


@dataclass
class Round:
    reads: int
    latency_ms: float
    python_ms: float
    primary_ms: float
    standby_ms: float


async def _read_for(read: Callable[[], Awaitable[object]], readers: int, seconds: float) -> Round:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def reader() -> None:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            await read()
            latencies.append(time.perf_counter() - began)

    cpu = time.process_time()
    await asyncio.gather(*(reader() for _ in range(readers)))
    python = time.process_time() - cpu
    n = max(len(latencies), 1)
    return Round(n, statistics.median(latencies) * 1000, python * 1000 / n, 0.0, 0.0)


async def _round(urls: tuple[str, str], seeded: Seeded, which: str, condition: str) -> Round:
    primary, standby = create_engine(urls[0]), create_engine(urls[1])
    try:
        uow = SqlUnitOfWorkFactory(primary)
        replica = ReplicaUnitOfWorkFactory(primary, standby) if condition == "replica" else None
        ledger = Ledger(uow, replica_reads=replica)
        overview = MemberOverview(ledger)

        async def read() -> object:
            if which == "statement":
                return await ledger.statement(seeded.community_id, seeded.account_id)
            return await overview.community_month(seeded.community_id, date.today())

        await read()  # the pools' first connections, outside the measure
        return await _read_for(read, ARGS.readers, ARGS.seconds)
    finally:
        await primary.dispose()
        await standby.dispose()


def _measured(
    primary_url: str, standby_url: str, seeded: Seeded, which: str, condition: str
) -> Round:
    with BackendCpu(primary_url) as on_primary, BackendCpu(standby_url) as on_standby:
        found = asyncio.run(_round((primary_url, standby_url), seeded, which, condition))
    found.primary_ms = on_primary.seconds * 1000 / found.reads
    found.standby_ms = on_standby.seconds * 1000 / found.reads
    return found


def _measure() -> dict[tuple[str, str, str], list[Round]]:
    results: dict[tuple[str, str, str], list[Round]] = {}
    with throwaway_cluster() as primary, standby_of(primary) as standby:
        seeded = asyncio.run(_seed(primary.url, ARGS.exchanges))
        for mode in ("alone", "writers"):
            stop = multiprocessing.get_context("spawn").Event()
            writer = None
            if mode == "writers":
                context = multiprocessing.get_context("spawn")
                writer = context.Process(target=_write, args=(primary.url, stop), daemon=True)
                writer.start()
                time.sleep(1.0)
            try:
                for round_ in range(ARGS.rounds):
                    order = CONDITIONS if round_ % 2 == 0 else CONDITIONS[::-1]
                    for which in READS:
                        for condition in order:
                            found = _measured(primary.url, standby.url, seeded, which, condition)
                            results.setdefault((mode, which, condition), []).append(found)
            finally:
                stop.set()
                if writer is not None:
                    writer.join(timeout=30)
    return results


def _print(results: dict[tuple[str, str, str], list[Round]]) -> None:
    print(f"{ARGS.readers} readers, {ARGS.exchanges} exchanges this month; medians of rounds")
    print(
        f"{'mode':<9}{'read':<19}{'from':<9}{'per s':>8}{'latency':>10}{'vs primary':>12}"
        f"{'python':>10}{'primary':>10}{'standby':>10}  (CPU ms per read)"
    )
    for (mode, which, condition), rounds in results.items():
        base = statistics.median(r.latency_ms for r in results[(mode, which, "primary")])
        latency = statistics.median(r.latency_ms for r in rounds)
        rate = statistics.median(r.reads for r in rounds) / ARGS.seconds
        python = statistics.median(r.python_ms for r in rounds)
        on_primary = statistics.median(r.primary_ms for r in rounds)
        on_standby = statistics.median(r.standby_ms for r in rounds)
        print(
            f"{mode:<9}{which:<19}{condition:<9}{rate:>8.0f}{latency:>8.2f}ms"
            f"{latency / base:>11.2f}x{python:>10.3f}{on_primary:>10.3f}{on_standby:>10.3f}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=200)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


ARGS = argparse.Namespace()


def main() -> None:
    ARGS.__dict__.update(vars(_arguments()))
    _print(_measure())


if __name__ == "__main__":
    main()
