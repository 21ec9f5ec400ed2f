"""Commons Ledger against its database's own limit, measured in one run on one machine.

    .venv/bin/python -m bench.suite [--quick] [--part all|transfers|batch] [--seconds 10]
        [--accounts 10000] [--json FILE]

Creates fresh PostgreSQL databases (``COMMONS_LEDGER_BENCH_DATABASE_URL``, default the local
server), measures the raw-SQL baselines with pgbench (``bench/baseline/``), then the service
over HTTP with wrk (``bench/wrk/``), and prints each figure beside its baseline as a ratio, with
the goal it is held to. Every scenario is measured twice (``bench.suite_runs``): ``[fresh]``, alone
on its own copy of the just-seeded database with a server just started, and ``[steady]``, on one
copy after a warm-up, every scenario in turn; with PostgreSQL's CPU per transfer for the service
and each transfer baseline of the same state. Writes everything as JSON (default
``bench/results/latest.json``). Timings are noisy on shared machines: compare ratios, and medians
of several runs; the load average before and after the run is recorded with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bench import baseline, floor, service_load, suite_runs
from bench.baseline import Rate
from bench.databases import fresh_database
from bench.service_load import Load
from bench.suite_runs import BATCH, STATES, Results

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


async def _service(
    template: str, args: argparse.Namespace, folder: Path, name: str
) -> Results[Load]:
    """The service's scenarios on ``template`` once seeded, in both states."""
    sqlite = name == "sqlite"
    scenarios = suite_runs.service(args, sqlite=sqlite)
    if not scenarios:
        return {state: {} for state in STATES}
    books = await service_load.seed(template, args.accounts)
    ids = folder / f"{name}-accounts.txt"
    ids.write_text("\n".join(books.account_ids) + "\n")
    return await suite_runs.in_states(
        template, f"cl_bench_{name}", scenarios, suite_runs.serving(books, ids, folder / name),
        suite_runs.service_warm_up(args, 8 if sqlite else 32),
    )  # fmt: skip


def _json(found: Results[Rate] | Results[Load]) -> dict[str, dict[str, object]]:
    return {state: {n: asdict(f.result) for n, f in by.items()} for state, by in found.items()}


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("nan")


def _rows(base: dict[str, Rate], pg: dict[str, Load], lite: dict[str, Load]) -> list[Row]:
    """The table's rows for the scenarios measured in this run, each with issue 20's goal (random
    transfers to many communities, goal ≥ 35 %, are ``bench.spread``'s)."""
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
                f"{r_random:.1%} (p99 ×{p99_ratio:.1f})", "≥ 25 %, p99 ≤ 5×",
                r_random >= 0.25 and p99_ratio <= 5),
            Row("POST transfers, 32 clients, hot account", _fmt(hot32.rate),
                _fmt(base["transfer_hot_32"]), f"×{r_hot:.2f}; drop 8→32: {hot_drop:.0%}",
                "≥ 1.5×", r_hot >= 1.5),
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


PG_CPU_PAIRS = (
    ("transfers_random_32", "transfer_statements_32", "32 clients, random", "≤ 1.5×"),
    ("transfers_hot_32", "transfer_hot_32", "32 clients, hot account", "—"),
    ("transfers_batch_100_8", "transfer_batch_100_8", f"batches of {BATCH}, 8 clients", "—"),
)
"""PostgreSQL's CPU per transfer: each service scenario beside its baseline (issue 20's goal
holds the random one to the one-statement-per-trip baseline's)."""


def _pg_cpu_rows(service: dict[str, float], base: dict[str, float]) -> list[Row]:
    """PostgreSQL's CPU per transfer, the service's beside the baselines' of the same run."""
    rows: list[Row] = []
    for name, base_name, what, goal in PG_CPU_PAIRS:
        if name not in service or base_name not in base:
            continue
        ratio = _ratio(service[name], base[base_name])
        function = base.get("transfer_function_32") if name == "transfers_random_32" else None
        beside = f"; ×{_ratio(service[name], function):.2f} the function call's" if function else ""
        rows.append(
            Row(f"PostgreSQL CPU per transfer, {what}", f"{service[name]:.3f} ms",
                f"{base[base_name]:.3f} ms", f"×{ratio:.2f}{beside}", goal,
                ratio <= 1.5 if goal != "—" else None)
        )  # fmt: skip
    return rows


def _state_rows(base: Results[Rate], pg: Results[Load], lite: Results[Load]) -> list[Row]:
    """Every row once per state, named with it."""
    rows: list[Row] = []
    for state in STATES:

        def plain(found: Results[Rate] | Results[Load]) -> dict[str, object]:
            return {name: f.result for name, f in found.get(state, {}).items()}  # noqa: B023

        def cpu(found: Results[Rate] | Results[Load]) -> dict[str, float]:
            return {
                name: f.pg_cpu_ms
                for name, f in found.get(state, {}).items()  # noqa: B023
                if f.pg_cpu_ms is not None
            }

        found = _rows(plain(base), plain(pg), plain(lite))  # type: ignore[arg-type]
        found += _pg_cpu_rows(cpu(pg), cpu(base))
        rows += [replace(row, scenario=f"[{state}] {row.scenario}") for row in found]
    return rows


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


async def _floor(args: argparse.Namespace, folder: Path) -> dict[str, str]:
    """The framework floor (``bench.floor``) beside the service, same wrk scripts, same run."""
    settings = argparse.Namespace(
        seconds=args.seconds, clients=32, rounds=1, accounts=min(args.accounts, 2_000)
    )
    found = await floor.measure(settings, folder)
    lines = {}
    for name, by in found.items():
        service, bare = by["service"], by["floor"]
        lines[f"framework floor: {name}, 32 clients"] = (
            f"{bare['per_s']:,.0f}/s (p99 {bare['p99_ms']:.1f} ms, {bare['cpu_ms']:.2f} ms CPU);"
            f" the service {service['per_s']:,.0f}/s ({service['cpu_ms']:.2f} ms CPU),"
            f" {service['per_s'] / max(bare['per_s'], 1):.0%} of the floor"
        )
    return lines


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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with fresh_database("cl_bench_base") as template:
            await baseline.prepare(template, args.accounts)
            base = await suite_runs.in_states(
                template, "cl_bench_base", suite_runs.baselines(args), contextlib.nullcontext,
                suite_runs.baseline_warm_up(args),
            )  # fmt: skip
            if args.part == "all":
                copy = await baseline.copy_postings(template, args.copy_rows, args.accounts)
                trial_ms = await baseline.trial_balance_ms(template)
                extra |= {
                    "baseline binary COPY": f"{copy.per_s:,.0f} postings/s",
                    f"baseline trial balance over {args.copy_rows:,} postings":
                        f"{trial_ms:.0f} ms",
                }  # fmt: skip
        async with fresh_database("cl_bench_service") as template:
            pg = await _service(template, args, folder, "postgresql")
        lite = await _service(f"sqlite+aiosqlite:///{folder / 'bench.db'}", args, folder, "sqlite")
        if args.part in ("all", "transfers"):
            extra |= await _floor(args, folder)
    rows = _state_rows(base, pg, lite)
    for state in STATES:
        if "transfer_function_32" in base[state]:
            extra[f"[{state}] baseline function-call transfer, 32 clients"] = _fmt(
                base[state]["transfer_function_32"].result
            )
        if "transfers_random_32" in pg[state]:
            random32 = pg[state]["transfers_random_32"].result
            extra |= {
                f"[{state}] server CPU per transfer (32 clients)":
                    f"{random32.server_cpu_ms_per_request:.2f} ms",
                f"[{state}] load generator CPU (32-client transfers run)":
                    f"{random32.load_generator_cpu_s:.1f} s in {args.seconds} s",
            }  # fmt: skip
        if "transfers_batch_100_8" in pg[state]:
            batch = pg[state]["transfers_batch_100_8"].result
            extra[f"[{state}] server CPU per transfer in batches of 100"] = (
                f"{batch.server_cpu_ms_per_request / BATCH:.3f} ms"
            )
    extra["failed requests (all runs)"] = str(
        sum(f.result.failures for found in (pg, lite) for by in found.values() for f in by.values())
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
        "states": {
            "fresh": "each scenario alone on its own copy of the just-seeded database, its"
            " server just started",
            "steady": "one copy, warmed up by random transfers, every scenario in turn",
        },
        "baseline": _json(base),
        "postgresql": _json(pg),
        "sqlite": _json(lite),
        "postgresql_cpu_ms_per_transfer": {
            state: {
                name: f.pg_cpu_ms
                for found in (base, pg)
                for name, f in found[state].items()
                if f.pg_cpu_ms is not None
            }
            for state in STATES
        },
        "notes": extra,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(f"written to {args.json}\n")


if __name__ == "__main__":
    asyncio.run(main())
