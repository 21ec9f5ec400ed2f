"""What the product's layers cost per request: the service beside the framework floor
(``bench/floor_app.py``, a bare Litestar app on asyncpg), driven by the same wrk scripts with
the same clients, in alternating rounds on one machine.

    .venv/bin/python -m bench.floor [--seconds 10] [--clients 32] [--rounds 2] [--json FILE]

For each scenario (a balance read, a transfer) it prints both rates, the service's as a share of
the floor's, p99 latencies, and each server's CPU per request: the difference is what
authentication, middleware, dependency injection, validation, the log line, the rate limit,
metrics and the ledger's own rules (double entry, limits, audit, events) cost together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from api.server import server_choice
from bench import baseline, service_load
from bench.databases import dsn, fresh_database
from bench.service_load import Books, Load, Server


@contextmanager
def floor_serving(database_url: str, log: Path) -> Iterator[Server]:
    """The floor app under uvicorn with the product's loop and parser (``api.server``)."""
    choice = server_choice()
    port = service_load._free_port()
    env = {**os.environ, "FLOOR_DATABASE_URL": dsn(database_url)}
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "bench.floor_app:create",
        "--host", "127.0.0.1", "--port", str(port), "--loop", choice.loop,
        "--http", choice.http, "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    ready = "/floor/accounts/2/balance"
    with service_load.running(
        command, env, log, ready_path=ready, port=port, what="the floor app"
    ) as server:
        yield server


def _run(server: Server, script: str, path: str, args: list[str], ns: argparse.Namespace) -> Load:
    cpu, children = server.cpu_s(), service_load.children_cpu_s()
    process = service_load.wrk(server, script, path, args, clients=ns.clients, seconds=ns.seconds)
    return service_load.measured(server, process, cpu, children)


def _summary(loads: list[Load]) -> dict[str, float]:
    return {
        "per_s": statistics.median(load.rate.per_s for load in loads),
        "p99_ms": statistics.median(load.rate.p99_ms or 0.0 for load in loads),
        "cpu_ms": statistics.median(load.server_cpu_ms_per_request for load in loads),
        "failures": float(sum(load.failures for load in loads)),
    }


async def measure(ns: argparse.Namespace, folder: Path) -> dict[str, dict[str, dict[str, float]]]:
    async with fresh_database("floor") as floor_url, fresh_database("floor_service") as svc_url:
        await baseline.prepare(floor_url, ns.accounts)
        books: Books = await service_load.seed(svc_url, ns.accounts)
        floor_ids, svc_ids = folder / "floor-ids.txt", folder / "service-ids.txt"
        floor_ids.write_text("\n".join(str(i) for i in range(2, ns.accounts + 2)) + "\n")
        svc_ids.write_text("\n".join(books.account_ids) + "\n")
        scenarios = {
            "balance_read": (
                ("balances.lua", "/floor/accounts", [str(floor_ids), "-"]),
                ("balances.lua", f"{books.base}/accounts", [str(svc_ids), books.token]),
            ),
            "transfer": (
                ("transfers.lua", "/floor/transfers", [str(floor_ids), "-"]),
                ("transfers.lua", f"{books.base}/transfers", [str(svc_ids), books.token]),
            ),
        }
        loads: dict[str, dict[str, list[Load]]] = {
            name: {"floor": [], "service": []} for name in scenarios
        }
        with (
            floor_serving(floor_url, folder / "floor.log") as floor,
            service_load.serving(svc_url, folder / "service.log") as service,
        ):
            for round_ in range(ns.rounds):
                for name, (on_floor, on_service) in scenarios.items():
                    # Alternate which goes first, so that neither always meets a warmer database.
                    runs = [("floor", floor, on_floor), ("service", service, on_service)]
                    for who, server, (script, path, extra) in runs[:: 1 if round_ % 2 else -1]:
                        loads[name][who].append(_run(server, script, path, extra, ns))
    return {name: {who: _summary(found) for who, found in by.items()} for name, by in loads.items()}


def _print(results: dict[str, dict[str, dict[str, float]]]) -> None:
    print(
        f"{'scenario':<14}{'floor/s':>10}{'service/s':>11}{'share':>8}"
        f"{'floor p99':>11}{'svc p99':>10}{'floor CPU':>11}{'svc CPU':>10}"
    )
    for name, by in results.items():
        floor, service = by["floor"], by["service"]
        share = service["per_s"] / floor["per_s"] if floor["per_s"] else float("nan")
        print(
            f"{name:<14}{floor['per_s']:>10.0f}{service['per_s']:>11.0f}{share:>8.0%}"
            f"{floor['p99_ms']:>9.1f}ms{service['p99_ms']:>8.1f}ms"
            f"{floor['cpu_ms']:>9.2f}ms{service['cpu_ms']:>8.2f}ms"
        )
        if floor["failures"] or service["failures"]:
            print(f"  failures: floor {floor['failures']:.0f}, service {service['failures']:.0f}")
    print("share: the service's rate as a part of the floor's; CPU: the server's per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as folder:
        results = asyncio.run(measure(ns, Path(folder)))
    _print(results)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
