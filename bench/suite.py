"""Commons Ledger against its database's own limit, measured in one run on one machine.

    .venv/bin/python -m bench.suite [--quick] [--part all|transfers|batch] [--seconds 10]
        [--accounts 10000] [--json FILE]

Creates fresh PostgreSQL databases (``COMMONS_LEDGER_BENCH_DATABASE_URL``, default the local
server), measures the raw-SQL baselines with pgbench (``bench/baseline/``), then the service
over HTTP with wrk (``bench/wrk/``), and prints each figure beside its baseline as a ratio, with
the goal it is held to. Writes everything as JSON (default ``bench/results/latest.json``).
Timings are noisy on shared machines: compare ratios, and medians of several runs; the load
average before and after the run is recorded with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import baseline, service_load
from bench.baseline import Rate
from bench.databases import fresh_database
from bench.pg_cpu import BackendCpu
from bench.service_load import Books, Load, Server

RESULTS = Path(__file__).parent / "results" / "latest.json"
BATCH = 100
"""Transfers per request of the batch scenario, as in the baseline's batches."""


@dataclass(frozen=True)
class Row:
    scenario: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None


def _fmt(rate: Rate, unit: str = "/s") -> str:
    text = f"{rate.per_s:,.0f}{unit}"
    return text + (f" (p99 {rate.p99_ms:.1f} ms)" if rate.p99_ms is not None else "")


PG_CPU_SCENARIOS = {"transfer_statements_32", "transfer_function_32", "transfers_random_32"}
"""Where PostgreSQL's own CPU per transfer is recorded (``bench.pg_cpu``): the service's random
transfers and the two single-transfer baselines, one statement per trip and the function call."""


def _pg_cpu_ms(url: str, measure: Callable[[], float], seconds: int) -> tuple[float, float]:
    """``measure()`` (returning transfers/s) run while the database's backends are watched:
    the rate, and PostgreSQL's CPU milliseconds per transfer."""
    with BackendCpu(url) as cpu:
        per_s = measure()
    return per_s, cpu.seconds * 1000 / max(per_s * seconds, 1)


def _baselines(url: str, args: argparse.Namespace, pg_cpu: dict[str, float]) -> dict[str, Rate]:
    def run(script: str, clients: int) -> Rate:
        name = f"{script.removesuffix('.sql')}_{clients}"
        rates: list[Rate] = []

        def measure() -> float:
            rates.append(
                baseline.pgbench(
                    url, script, clients=clients, seconds=args.seconds, accounts=args.accounts
                )
            )
            return rates[0].per_s

        if name not in PG_CPU_SCENARIOS:
            measure()
        else:
            _, pg_cpu[name] = _pg_cpu_ms(url, measure, args.seconds)
        return rates[0]

    batch = run("transfer_batch.sql", 8)
    found = {"transfer_batch_100_8": Rate(batch.per_s * BATCH, batch.p50_ms, batch.p99_ms)}
    if args.part == "batch":
        return found
    return found | {
        "transfer_statements_32": run("transfer_statements.sql", 32),
        "transfer_function_32": run("transfer_function.sql", 32),
        "transfer_hot_32": run("transfer_hot.sql", 32),
        "balance_read_32": run("balance_read.sql", 32),
    }


def _load(
    server: Server, books: Books, args: argparse.Namespace, ids: Path, pg_cpu: dict[str, float]
) -> dict[str, Load]:
    transfers = f"{books.base}/transfers"

    def post(clients: int, *extra: str) -> Load:
        loads: list[Load] = []

        def measure() -> float:
            cpu, children = server.cpu_s(), service_load.children_cpu_s()
            process = service_load.wrk(
                server, "transfers.lua", transfers, [str(ids), books.token, *extra],
                clients=clients, seconds=args.seconds,
            )  # fmt: skip
            loads.append(service_load.measured(server, process, cpu, children))
            return loads[0].rate.per_s

        name = f"transfers_{'hot' if extra else 'random'}_{clients}"
        if name not in PG_CPU_SCENARIOS:
            measure()
        else:
            _, pg_cpu[name] = _pg_cpu_ms(books.url, measure, args.seconds)
        return loads[0]

    results: dict[str, Load] = {}
    if args.part in {"all", "batch"}:
        cpu, children = server.cpu_s(), service_load.children_cpu_s()
        process = service_load.wrk(
            server, "batch.lua", f"{transfers}:batch", [str(ids), books.token, str(BATCH)],
            clients=8, seconds=args.seconds,
        )  # fmt: skip
        results["transfers_batch_100_8"] = service_load.measured(server, process, cpu, children)
    if args.part == "batch":
        return results
    results |= {
        "transfers_random_32": post(32),
        "transfers_hot_8": post(8, books.hot_account_id),
        "transfers_hot_32": post(32, books.hot_account_id),
    }
    # Balance reads while eight clients keep posting transfers.
    cpu, children = server.cpu_s(), service_load.children_cpu_s()
    writers = service_load.wrk(
        server, "transfers.lua", transfers, [str(ids), books.token], clients=8,
        seconds=args.seconds,
    )  # fmt: skip
    readers = service_load.wrk(
        server, "balances.lua", f"{books.base}/accounts", [str(ids), books.token], clients=32,
        seconds=args.seconds,
    )  # fmt: skip
    results["balance_reads_32_under_writes"] = service_load.measured(server, readers, cpu, children)
    writers.communicate()
    return results


async def _service(
    url: str, args: argparse.Namespace, folder: Path, name: str, pg_cpu: dict[str, float]
) -> dict[str, Load]:
    books = await service_load.seed(url, args.accounts)
    ids = folder / f"{name}-accounts.txt"
    ids.write_text("\n".join(books.account_ids) + "\n")
    with service_load.serving(url, folder / f"{name}.log") as server:
        if name == "sqlite" and args.part != "batch":
            cpu, children = server.cpu_s(), service_load.children_cpu_s()
            process = service_load.wrk(
                server, "transfers.lua", f"{books.base}/transfers", [str(ids), books.token],
                clients=8, seconds=args.seconds,
            )  # fmt: skip
            results = {"transfers_random_8": service_load.measured(server, process, cpu, children)}
        elif name == "sqlite":
            results = {}
        else:
            results = _load(server, books, args, ids, pg_cpu)
        results_peak = server.peak_rss_mb()
    sys.stderr.write(f"{name}: server peak RSS {results_peak:.0f} MB\n")
    return results


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("nan")


def _rows(base: dict[str, Rate], pg: dict[str, Load], lite: dict[str, Load]) -> list[Row]:
    """The table's rows for the scenarios measured in this run."""
    rows: list[Row] = []
    if "transfers_random_32" in pg:
        statements = base["transfer_statements_32"]
        random32, hot8, hot32 = (
            pg["transfers_random_32"], pg["transfers_hot_8"], pg["transfers_hot_32"]
        )  # fmt: skip
        r_random = _ratio(random32.rate.per_s, statements.per_s)
        p99_ratio = _ratio(random32.rate.p99_ms or 0, statements.p99_ms or 0)
        r_hot = _ratio(hot32.rate.per_s, base["transfer_hot_32"].per_s)
        hot_drop = 1 - _ratio(hot32.rate.per_s, hot8.rate.per_s)
        rows += [
            Row("POST transfers, 32 clients, random", _fmt(random32.rate), _fmt(statements),
                f"{r_random:.1%} (p99 ×{p99_ratio:.1f})", "≥ 35 %, p99 ≤ 3×",
                r_random >= 0.35 and p99_ratio <= 3),
            Row("POST transfers, 32 clients, hot account", _fmt(hot32.rate),
                _fmt(base["transfer_hot_32"]), f"×{r_hot:.2f}; drop 8→32: {hot_drop:.0%}",
                "≥ 2×, drop ≤ 20 %", r_hot >= 2 and hot_drop <= 0.2),
        ]  # fmt: skip
    if "transfers_batch_100_8" in pg:
        batch = pg["transfers_batch_100_8"].rate
        per_transfer = Rate(batch.per_s * BATCH, batch.p50_ms, batch.p99_ms)
        r_batch = _ratio(per_transfer.per_s, base["transfer_batch_100_8"].per_s)
        rows.append(
            Row(f"POST transfers:batch, {BATCH} per request, 8 clients", _fmt(per_transfer),
                _fmt(base["transfer_batch_100_8"]), f"{r_batch:.1%}", "≥ 50 %", r_batch >= 0.5)
        )  # fmt: skip
    if "balance_reads_32_under_writes" in pg:
        reads = pg["balance_reads_32_under_writes"].rate
        rows.append(
            Row("GET balance under writes, 32 clients", _fmt(reads), _fmt(base["balance_read_32"]),
                f"{_ratio(reads.per_s, base['balance_read_32'].per_s):.1%}",
                "≥ 3,000/s, p99 ≤ 20 ms", reads.per_s >= 3000 and (reads.p99_ms or 1e9) <= 20)
        )  # fmt: skip
    if "transfers_random_8" in lite:
        sqlite8 = lite["transfers_random_8"].rate
        rows.append(
            Row("SQLite default, POST transfers, 8 clients", _fmt(sqlite8), "—", "—",
                "≥ 1,000/s", sqlite8.per_s >= 1000)
        )  # fmt: skip
    return rows


def _pg_cpu_rows(pg_cpu: dict[str, float]) -> list[Row]:
    """PostgreSQL's CPU per transfer, the service's beside the baselines' of the same run."""
    if "transfers_random_32" not in pg_cpu:
        return []
    service, statements = pg_cpu["transfers_random_32"], pg_cpu["transfer_statements_32"]
    ratio = _ratio(service, statements)
    function = pg_cpu.get("transfer_function_32")
    beside = f"; ×{_ratio(service, function):.2f} the function call's" if function else ""
    return [
        Row("PostgreSQL CPU per transfer, 32 clients, random", f"{service:.3f} ms",
            f"{statements:.3f} ms (one statement per trip)", f"×{ratio:.2f}{beside}",
            "≤ 1.5×", ratio <= 1.5)
    ]  # fmt: skip


def _print(rows: list[Row], extra: dict[str, str]) -> None:
    header = ("scenario", "Commons Ledger", "baseline (same run)", "ratio", "goal", "met")
    table = [header, *((r.scenario, r.measured, r.baseline, r.ratio, r.goal,
             {True: "yes", False: "no", None: "—"}[r.met]) for r in rows)]  # fmt: skip
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        sys.stdout.write(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        )
        sys.stdout.write("\n")
    for name, value in extra.items():
        sys.stdout.write(f"{name}: {value}\n")


def _machine() -> dict[str, str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    version = subprocess.run(["pgbench", "--version"], capture_output=True, text=True, check=False)
    postgres = version.stdout
    memory_kb = next(
        (int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal:")), 0,
    )  # fmt: skip
    return {"cpus": str(os.cpu_count()), "cpu": cpu, "memory": f"{memory_kb / 2**20:.1f} GiB",
            "pgbench": postgres.strip(), "python": platform.python_version()}  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per figure, 2,000 accounts")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--copy-rows", type=int, default=2_000_000)
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument(
        "--part", choices=("all", "transfers", "batch"), default="all",
        help="transfers: single writes and reads; batch: the batch endpoint only",
    )  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.accounts, args.copy_rows = 3, 2_000, 200_000
    load_before = os.getloadavg()
    extra: dict[str, str] = {}
    pg_cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with fresh_database("cl_bench_base") as url:
            await baseline.prepare(url, args.accounts)
            base = _baselines(url, args, pg_cpu)
            if args.part == "all":
                copy = await baseline.copy_postings(url, args.copy_rows, args.accounts)
                trial_ms = await baseline.trial_balance_ms(url)
                extra |= {
                    "baseline binary COPY": f"{copy.per_s:,.0f} postings/s",
                    f"baseline trial balance over {args.copy_rows:,} postings":
                        f"{trial_ms:.0f} ms",
                }  # fmt: skip
        async with fresh_database("cl_bench_service") as url:
            pg = await _service(url, args, folder, "postgresql", pg_cpu)
        lite = await _service(
            f"sqlite+aiosqlite:///{folder / 'bench.db'}", args, folder, "sqlite", pg_cpu
        )
    rows = _rows(base, pg, lite) + _pg_cpu_rows(pg_cpu)
    if "transfer_function_32" in base:
        extra["baseline function-call transfer, 32 clients"] = _fmt(base["transfer_function_32"])
    if "transfers_random_32" in pg:
        random32 = pg["transfers_random_32"]
        extra |= {
            "server CPU per transfer (32 clients)":
                f"{random32.server_cpu_ms_per_request:.2f} ms",
            "load generator CPU (32-client transfers run)":
                f"{random32.load_generator_cpu_s:.1f} s in {args.seconds} s",
        }  # fmt: skip
    if "transfers_batch_100_8" in pg:
        batch = pg["transfers_batch_100_8"]
        extra["server CPU per transfer in batches of 100"] = (
            f"{batch.server_cpu_ms_per_request / BATCH:.3f} ms"
        )
    extra["failed requests (all runs)"] = str(
        sum(load.failures for load in (*pg.values(), *lite.values()))
    )
    load_after = os.getloadavg()
    extra["load average (1, 5, 15 min) before → after"] = (
        f"{', '.join(f'{v:.2f}' for v in load_before)} → "
        f"{', '.join(f'{v:.2f}' for v in load_after)}"
    )
    _print(rows, extra)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "settings": {"seconds": args.seconds, "accounts": args.accounts, "part": args.part},
        "load_average": {"before": load_before, "after": load_after},
        "rows": [asdict(row) for row in rows],
        "baseline": {name: asdict(rate) for name, rate in base.items()},
        "postgresql": {name: asdict(load) for name, load in pg.items()},
        "sqlite": {name: asdict(load) for name, load in lite.items()},
        "postgresql_cpu_ms_per_transfer": pg_cpu,
        "notes": extra,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(f"written to {args.json}\n")


if __name__ == "__main__":
    asyncio.run(main())
