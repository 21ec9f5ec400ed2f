"""The SQLite default under the suite's write load, with each ``synchronous`` setting in
alternating rounds on one database: what syncing every commit costs on this disk.

    .venv/bin/python -m bench.sqlite_writes [--rounds 3] [--seconds 8] [--clients 8]
        [--accounts 2000]

Prints each round and the medians of transfers per second, p99 latency and the server's CPU
per request. ``FULL`` is the default and the only setting durable against power loss
(``COMMONS_LEDGER_SQLITE_SYNCHRONOUS``, README).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench import service_load
from bench.service_load import Load

SETTINGS = ("FULL", "NORMAL")


def _line(loads: list[Load]) -> str:
    rate = statistics.median(load.rate.per_s for load in loads)
    p99 = statistics.median(load.rate.p99_ms or 0 for load in loads)
    cpu = statistics.median(load.server_cpu_ms_per_request for load in loads)
    failures = sum(load.failures for load in loads)
    return f"{rate:7.0f}/s  p99 {p99:7.1f} ms  server CPU {cpu:5.2f} ms/request  failed {failures}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--accounts", type=int, default=2_000)
    args = parser.parse_args()
    results: dict[str, list[Load]] = {setting: [] for setting in SETTINGS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        books = await service_load.seed(url, args.accounts)
        ids = folder / "accounts.txt"
        ids.write_text("\n".join(books.account_ids) + "\n")
        for number in range(args.rounds):
            for setting in SETTINGS:
                os.environ["COMMONS_LEDGER_SQLITE_SYNCHRONOUS"] = setting
                with service_load.serving(url, folder / "server.log") as server:
                    cpu, children = server.cpu_s(), service_load.children_cpu_s()
                    process = service_load.wrk(
                        server, "transfers.lua", f"{books.base}/transfers",
                        [str(ids), books.token], clients=args.clients, seconds=args.seconds,
                    )  # fmt: skip
                    load = service_load.measured(server, process, cpu, children)
                results[setting].append(load)
                sys.stdout.write(f"round {number + 1} {setting:>6}: {_line([load])}\n")
    os.environ.pop("COMMONS_LEDGER_SQLITE_SYNCHRONOUS", None)
    for setting, loads in results.items():
        sys.stdout.write(f"median {setting:>7}: {_line(loads)}\n")


if __name__ == "__main__":
    asyncio.run(main())
