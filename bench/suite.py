"""Commons Ledger against its database's own limit, measured in one run on one machine.

    .venv/bin/python -m bench.suite [--quick] [--seconds 10] [--accounts 10000] [--json FILE]

Creates fresh PostgreSQL databases (``COMMONS_LEDGER_BENCH_DATABASE_URL``, default the local
server), measures the raw-SQL baselines with pgbench (``bench/baseline/``), then the service
over HTTP with wrk (``bench/wrk/``), and prints each figure beside its baseline as a ratio, with
the goal it is held to. Writes everything as JSON (default ``bench/results/latest.json``).
Timings are noisy on shared machines: compare ratios, and medians of several runs.
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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import baseline, service_load
from bench.baseline import Rate
from bench.databases import fresh_database
from bench.service_load import Books, Load, Server

RESULTS = Path(__file__).parent / "results" / "latest.json"


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


def _baselines(url: str, args: argparse.Namespace) -> dict[str, Rate]:
    def run(script: str, clients: int) -> Rate:
        return baseline.pgbench(
            url, script, clients=clients, seconds=args.seconds, accounts=args.accounts
        )

    batch = run("transfer_batch.sql", 8)
    return {
        "transfer_statements_32": run("transfer_statements.sql", 32),
        "transfer_function_32": run("transfer_function.sql", 32),
        "transfer_hot_32": run("transfer_hot.sql", 32),
        "transfer_batch_100_8": Rate(batch.per_s * 100, batch.p50_ms, batch.p99_ms),
        "balance_read_32": run("balance_read.sql", 32),
    }


def _load(server: Server, books: Books, args: argparse.Namespace, ids: Path) -> dict[str, Load]:
    transfers = f"{books.base}/transfers"

    def post(clients: int, *extra: str) -> Load:
        cpu, children = server.cpu_s(), service_load.children_cpu_s()
        process = service_load.wrk(
            server, "transfers.lua", transfers, [str(ids), books.token, *extra],
            clients=clients, seconds=args.seconds,
        )  # fmt: skip
        return service_load.measured(server, process, cpu, children)

    results = {
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


async def _service(url: str, args: argparse.Namespace, folder: Path, name: str) -> dict[str, Load]:
    books = await service_load.seed(url, args.accounts)
    ids = folder / f"{name}-accounts.txt"
    ids.write_text("\n".join(books.account_ids) + "\n")
    with service_load.serving(url, folder / f"{name}.log") as server:
        if name == "sqlite":
            cpu, children = server.cpu_s(), service_load.children_cpu_s()
            process = service_load.wrk(
                server, "transfers.lua", f"{books.base}/transfers", [str(ids), books.token],
                clients=8, seconds=args.seconds,
            )  # fmt: skip
            results = {"transfers_random_8": service_load.measured(server, process, cpu, children)}
        else:
            results = _load(server, books, args, ids)
        results_peak = server.peak_rss_mb()
    sys.stderr.write(f"{name}: server peak RSS {results_peak:.0f} MB\n")
    return results


def _rows(base: dict[str, Rate], pg: dict[str, Load], lite: dict[str, Load]) -> list[Row]:
    def ratio(value: float, reference: float) -> float:
        return value / reference if reference else float("nan")

    random32, hot8, hot32 = pg["transfers_random_32"], pg["transfers_hot_8"], pg["transfers_hot_32"]
    statements = base["transfer_statements_32"]
    r_random = ratio(random32.rate.per_s, statements.per_s)
    p99_ratio = ratio(random32.rate.p99_ms or 0, statements.p99_ms or 0)
    r_hot = ratio(hot32.rate.per_s, base["transfer_hot_32"].per_s)
    hot_drop = 1 - ratio(hot32.rate.per_s, hot8.rate.per_s)
    reads = pg["balance_reads_32_under_writes"].rate
    sqlite8 = lite["transfers_random_8"].rate
    return [
        Row("POST transfers, 32 clients, random", _fmt(random32.rate), _fmt(statements),
            f"{r_random:.1%} (p99 ×{p99_ratio:.1f})", "≥ 35 %, p99 ≤ 3×",
            r_random >= 0.35 and p99_ratio <= 3),
        Row("POST transfers, 32 clients, hot account", _fmt(hot32.rate),
            _fmt(base["transfer_hot_32"]), f"×{r_hot:.2f}; drop 8→32: {hot_drop:.0%}",
            "≥ 2×, drop ≤ 20 %", r_hot >= 2 and hot_drop <= 0.2),
        Row("batch endpoint, 100 per request", "not built", _fmt(base["transfer_batch_100_8"]),
            "—", "≥ 50 %", None),
        Row("GET balance under writes, 32 clients", _fmt(reads), _fmt(base["balance_read_32"]),
            f"{ratio(reads.per_s, base['balance_read_32'].per_s):.1%}",
            "≥ 3,000/s, p99 ≤ 20 ms", reads.per_s >= 3000 and (reads.p99_ms or 1e9) <= 20),
        Row("SQLite default, POST transfers, 8 clients", _fmt(sqlite8), "—", "—",
            "≥ 1,000/s", sqlite8.per_s >= 1000),
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
    return {"cpus": str(os.cpu_count()), "cpu": cpu, "pgbench": postgres.strip(),
            "python": platform.python_version()}  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per figure, 2,000 accounts")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--copy-rows", type=int, default=2_000_000)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.accounts, args.copy_rows = 3, 2_000, 200_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with fresh_database("cl_bench_base") as url:
            await baseline.prepare(url, args.accounts)
            base = _baselines(url, args)
            copy = await baseline.copy_postings(url, args.copy_rows, args.accounts)
            trial_ms = await baseline.trial_balance_ms(url)
        async with fresh_database("cl_bench_service") as url:
            pg = await _service(url, args, folder, "postgresql")
        lite = await _service(f"sqlite+aiosqlite:///{folder / 'bench.db'}", args, folder, "sqlite")
    rows = _rows(base, pg, lite)
    extra = {
        "baseline binary COPY": f"{copy.per_s:,.0f} postings/s",
        f"baseline trial balance over {args.copy_rows:,} postings": f"{trial_ms:.0f} ms",
        "baseline function-call transfer, 32 clients": _fmt(base["transfer_function_32"]),
        "server CPU per transfer (32 clients)":
            f"{pg['transfers_random_32'].server_cpu_ms_per_request:.2f} ms",
        "load generator CPU (32-client transfers run)":
            f"{pg['transfers_random_32'].load_generator_cpu_s:.1f} s in {args.seconds} s",
        "failed requests (all runs)":
            str(sum(load.failures for load in (*pg.values(), *lite.values()))),
    }  # fmt: skip
    _print(rows, extra)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "settings": {"seconds": args.seconds, "accounts": args.accounts},
        "rows": [asdict(row) for row in rows],
        "baseline": {name: asdict(rate) for name, rate in base.items()},
        "postgresql": {name: asdict(load) for name, load in pg.items()},
        "sqlite": {name: asdict(load) for name, load in lite.items()},
        "notes": extra,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(f"written to {args.json}\n")


if __name__ == "__main__":
    asyncio.run(main())
