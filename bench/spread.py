"""Transfers spread over many communities, in alternating rounds between versions or settings
of the server: the mix's second part (``bench.mix``) alone, in a minute instead of the whole mix.

    .venv/bin/python -m bench.spread [--communities 200] [--clients 32] [--seconds 8]
        [--rounds 3] [--base REV] [--variant LABEL:NAME=VALUE,NAME=VALUE …] [--pgbench]

One PostgreSQL database seeded by this tree's code with ``--communities`` communities of
``--accounts`` accounts and one write key each (so ``--base`` must share this tree's schema).
Each round serves it once per variant, in turn: this tree as it is (``tree``), the commit
``--base`` (its files exported with ``git archive``, served on this virtualenv), and each
``--variant`` (this tree with those environment settings, e.g.
``w2:COMMONS_LEDGER_WORKERS=2``). ``--clients`` wrk clients post random transfers, each to a
random community with that community's key (``bench/wrk/mix.lua``). Prints each round and the
medians of transfers per second, p99, the server's CPU per transfer (every worker's),
PostgreSQL's (its backends', ``bench.pg_cpu``) and the single writes per transaction (the
answering worker's ``/metrics``); the periodic jobs are off (``QUIET``). ``--pgbench`` adds
pgbench's one-statement-per-trip transfer on as many accounts, at the end, and each median's
share of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from bench import baseline, service_load
from bench.compare import _export, _source
from bench.databases import fresh_database
from bench.mix import _line, _wrk
from bench.pg_cpu import BackendCpu
from bench.service_load import Load
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade


@dataclass(frozen=True)
class Variant:
    label: str
    source: Path | None
    """The code it serves (None: this tree)."""
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Round:
    load: Load
    pg_cpu_ms: float
    group_size: float
    """Single writes per transaction (``commons_ledger_write_group_size`` in ``/metrics``)."""


QUIET: Final = {"COMMONS_LEDGER_JOBS_INTERVAL_S": "0"}
"""Every server runs without the periodic jobs: at start-up they visit every community, and
their CPU would be counted against the transfers (a variant may turn them back on)."""


def _group_size(server: service_load.Server) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=30).text
    found = dict(re.findall(r"^commons_ledger_write_group_size_(sum|count) (\S+)$", text, re.M))
    return float(found.get("sum", "nan")) / max(float(found.get("count", "1")), 1)


async def _seed_community(n: int, ledger: Ledger, access: Access, accounts: int) -> list[str]:
    rng = random.Random(n)
    community = await ledger.create_community(f"s{n:04}", f"Spread {n}")
    ids = [
        (
            await ledger.open_account(
                community.id,
                NewAccount(f"Liabilities:A{i:03}", f"A{i}", AccountType.LIABILITY, "HOURS"),
            )
        ).id
        for i in range(accounts)
    ]
    _, key = await access.issue_api_key(community.id, "bench", frozenset({Scope.WRITE}))
    lines = []
    for _ in range(20):
        debit, credit = rng.sample(ids, 2)
        body = {
            "debit_account_id": str(debit), "credit_account_id": str(credit),
            "amount": 1, "description": "bench",
        }  # fmt: skip
        path = f"/api/v1/communities/s{n:04}/transfers"
        lines.append(_line("POST", path, token=key, body=body))
    return lines


async def seed(url: str, communities: int, accounts: int) -> list[str]:
    """The database's communities; one request line per transfer to draw from."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        ledger, access = Ledger(uow), Access(uow)
        gate = asyncio.Semaphore(8)

        async def one(n: int) -> list[str]:
            async with gate:
                return await _seed_community(n, ledger, access, accounts)

        found = await asyncio.gather(*(one(n) for n in range(communities)))
    finally:
        await engine.dispose()
    return [line for lines in found for line in lines]


def _round(url: str, variant: Variant, lines: Path, log: Path, args: argparse.Namespace) -> Round:
    with (
        _source(variant.source),
        service_load.serving(url, log, extra_env=QUIET | variant.env) as server,
    ):
        cpu, children = server.cpu_s(), service_load.children_cpu_s()
        with BackendCpu(url) as pg_cpu:
            process = _wrk(server, lines, args.clients, args.seconds, once=False)
            load = service_load.measured(server, process, cpu, children)
        group_size = _group_size(server)
    transfers = max(load.rate.per_s * args.seconds, 1)
    return Round(load, pg_cpu.seconds * 1000 / transfers, group_size)


def _summary(rounds: list[Round], pgbench_per_s: float | None = None) -> str:
    rate = statistics.median(r.load.rate.per_s for r in rounds)
    share = f" ({rate / pgbench_per_s:.0%} of pgbench)" if pgbench_per_s else ""
    p99 = statistics.median(r.load.rate.p99_ms or 0 for r in rounds)
    cpu = statistics.median(r.load.server_cpu_ms_per_request for r in rounds)
    pg = statistics.median(r.pg_cpu_ms for r in rounds)
    failures = sum(r.load.failures for r in rounds)
    group = statistics.median(r.group_size for r in rounds)
    return (
        f"{rate:6.0f}/s{share}  p99 {p99:7.1f} ms  server CPU {cpu:5.2f} ms/transfer"
        f"  PostgreSQL CPU {pg:5.3f} ms/transfer  {group:4.1f} per transaction  failed {failures}"
    )


def _variants(args: argparse.Namespace, folder: Path) -> list[Variant]:
    found = [Variant("tree", None)]
    if args.base:
        found.insert(0, Variant(args.base, _export(args.base, folder / "base")))
    for text in args.variant:
        label, _, settings = text.partition(":")
        env = dict(pair.split("=", 1) for pair in settings.split(",") if pair)
        found.append(Variant(label, None, env))
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=6, help="per community")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", help="a commit to serve too (any git revision)")
    parser.add_argument("--variant", action="append", default=[], help="LABEL:NAME=VALUE,…")
    parser.add_argument("--pgbench", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every round's figures here")
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-spread-") as name:
        folder = Path(name)
        variants = _variants(args, folder)
        results: dict[str, list[Round]] = {v.label: [] for v in variants}
        pgbench = None
        async with fresh_database("spread") as url:
            lines = folder / "transfers.tsv"
            lines.write_text("\n".join(await seed(url, args.communities, args.accounts)) + "\n")
            for number in range(args.rounds):
                for variant in variants:
                    log = (args.logs or folder) / f"{number}-{variant.label.replace('/', '_')}.log"
                    found = _round(url, variant, lines, log, args)
                    results[variant.label].append(found)
                    print(f"round {number + 1} {variant.label:>12}: {_summary([found])}")
        if args.pgbench:
            async with fresh_database("spread_baseline") as base_url:
                accounts = args.communities * args.accounts
                await baseline.prepare(base_url, accounts)
                pgbench = baseline.pgbench(
                    base_url, "transfer_statements.sql", clients=args.clients,
                    seconds=args.seconds, accounts=accounts,
                )  # fmt: skip
            print(f"pgbench one statement per trip, {args.clients} clients: {pgbench.per_s:.0f}/s")
    for label, rounds in results.items():
        print(f"median {label:>12}: {_summary(rounds, pgbench.per_s if pgbench else None)}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.json:
        rows = {label: [vars(r.load.rate) | {"pg_cpu_ms": r.pg_cpu_ms, "group": r.group_size}
                        for r in rounds]
                for label, rounds in results.items()}  # fmt: skip
        args.json.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
