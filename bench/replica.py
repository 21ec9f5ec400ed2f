"""Whether a year's report read from a streaming replica leaves the primary's transfers alone.

    .venv/bin/python -m bench.replica [--exchanges 50000] [--seconds 10] [--rounds 2]

A throw-away primary cluster and a hot standby of it (``pg_basebackup -R``, as
``tests/faults/test_replica.py`` makes them), a community with a year of history on the primary
(``bench.report``'s generator) and the transfer bench's community. ``commons-ledger serve`` then
takes random transfers from 16 wrk clients in three conditions, in alternating rounds:

- alone;
- while one client asks for the year's report over and over, with ``COMMONS_LEDGER_REPLICA_URL``
  set (the report's queries run on the standby);
- the same without a replica (the report's queries run on the primary).

It prints the transfer rate of each condition as a share of "alone", the reports answered, and
the primary's backend CPU per transfer (``bench.pg_cpu``). The service's own Python process builds
the report in every case, so what the replica can spare is the primary's share only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import service_load
from bench.clusters import Cluster, standby_of, throwaway_cluster
from bench.pg_cpu import BackendCpu
from bench.report import YEAR, _community, _load, _rows
from bench.service_load import Books, Server
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.books.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade

CLIENTS = 16


async def _history(url: str, args: argparse.Namespace) -> tuple[str, str]:
    """The year-long community on the primary: its slug and a treasurer key."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        units = SqlUnitOfWorkFactory(engine)
        community, hours, money = await _community(Ledger(units), args.members)
        await _load(engine, community, _rows(community, hours, money, args.exchanges))
        _, key = await Access(units).issue_api_key(
            community.id, "bench", frozenset({Scope.TREASURER})
        )
    finally:
        await engine.dispose()
    return community.slug, key


@contextmanager
def _reports(server: Server, slug: str, key: str, on: bool) -> Iterator[list[float]]:
    """One client asking for the year's report until the block ends; yields the durations."""
    durations: list[float] = []
    stop = threading.Event()

    def ask() -> None:
        path = f"/api/v1/communities/{slug}/reports/sustainability"
        query = {"from": YEAR.start.isoformat(), "to": YEAR.end.isoformat()}
        with httpx.Client(base_url=server.url, timeout=120) as client:
            while not stop.is_set():
                answer = client.get(path, params=query, headers={"Authorization": f"Bearer {key}"})
                answer.raise_for_status()
                durations.append(answer.elapsed.total_seconds())

    worker = threading.Thread(target=ask, daemon=True) if on else None
    if worker:
        worker.start()
    try:
        yield durations
    finally:
        stop.set()
        if worker:
            worker.join(timeout=180)


def _transfers(
    server: Server, books: Books, ids: Path, primary: Cluster, seconds: int
) -> tuple[float, float]:
    """Transfers per second, and the primary's backend CPU ms per transfer meanwhile."""
    with BackendCpu(primary.url) as cpu:
        process = service_load.wrk(
            server, "transfers.lua", f"{books.base}/transfers", [str(ids), books.token],
            clients=CLIENTS, seconds=seconds,
        )  # fmt: skip
        load = service_load.measured(server, process, server.cpu_s(), 0.0)
    return load.rate.per_s, cpu.seconds * 1000 / max(load.rate.per_s * seconds, 1)


def _measure(args: argparse.Namespace, folder: Path) -> dict[str, list[tuple[float, float, int]]]:
    results: dict[str, list[tuple[float, float, int]]] = {"alone": [], "replica": [], "primary": []}
    with throwaway_cluster() as primary, standby_of(primary) as standby:
        slug, key = asyncio.run(_history(primary.url, args))
        books = asyncio.run(service_load.seed(primary.url, args.accounts))
        ids = folder / "ids.txt"
        ids.write_text("\n".join(books.account_ids) + "\n")
        for round_ in range(args.rounds):
            order = ["replica", "primary"] if round_ % 2 == 0 else ["primary", "replica"]
            for condition in order:
                extra = (
                    {"COMMONS_LEDGER_REPLICA_URL": standby.url} if condition == "replica" else {}
                )
                with service_load.serving(
                    primary.url, folder / "service.log", extra_env=extra
                ) as s:
                    if condition == order[0]:
                        rate, cpu = _transfers(s, books, ids, primary, args.seconds)
                        results["alone"].append((rate, cpu, 0))
                    with _reports(s, slug, key, on=True) as durations:
                        rate, cpu = _transfers(s, books, ids, primary, args.seconds)
                    results[condition].append((rate, cpu, len(durations)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--exchanges", type=int, default=50_000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-replica-") as folder:
        results = _measure(args, Path(folder))
    alone = statistics.median(rate for rate, _, _ in results["alone"])
    print(f"transfers, {CLIENTS} clients, with one client asking for a year's report meanwhile")
    print(f"{'condition':<32}{'per s':>8}{'share':>8}{'primary CPU':>13}{'reports':>9}")
    labels = {
        "alone": "alone",
        "replica": "report read from the replica",
        "primary": "report read from the primary",
    }
    for condition, found in results.items():
        rate = statistics.median(r for r, _, _ in found)
        cpu = statistics.median(c for _, c, _ in found)
        reports = sum(n for _, _, n in found)
        print(f"{labels[condition]:<32}{rate:>8.0f}{rate / alone:>8.0%}{cpu:>10.2f} ms{reports:>9}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
