"""The realistic install: many communities on one PostgreSQL, their members and treasurers
doing everyday things at once, each kind's rate and p99.

    .venv/bin/python -m bench.mix [--communities 200] [--seconds 10] [--json FILE]

``commons-ledger serve`` on a database seeded through the service with ``--communities``
communities of ``--members`` members each. Then two runs:

1. **The everyday mix**, 32 clients spread over every community at once, one wrk process per
   kind (so each kind's rate and latency are its own, measured while all the others run):
   balance reads by members, member page loads (home and exchanges, with a session cookie),
   exchanges recorded by members, exchanges confirmed by their receivers, account statements,
   and now and then a year's sustainability report.
2. **Transfers over many communities**: 32 clients posting random transfers, each to a random
   community with that community's key, beside pgbench's one-statement-per-trip transfer on the
   baseline schema (``bench/baseline``) in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bench import baseline, service_load
from bench.databases import fresh_database
from bench.service_load import Load, Server
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.books.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.timebank.exchanges import Exchanges

CLIENTS = {
    "balance_read": 12,
    "member_page": 8,
    "exchange_record": 5,
    "exchange_confirm": 3,
    "statement": 3,
    "report": 1,
}
"""The everyday mix: how many of the 32 clients do each kind of request."""

API = "/api/v1/communities"


@dataclass
class Requests:
    """Prepared request lines per kind (``bench/wrk/mix.lua``'s format)."""

    lines: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in CLIENTS})
    transfers: list[str] = field(default_factory=list)


def _line(method: str, path: str, *, token: str = "", cookie: str = "", body: object = "") -> str:
    text = json.dumps(body, separators=(",", ":")) if body else ""
    bearer = f"Bearer {token}" if token else ""
    return "\t".join((method, path, bearer, cookie, text))


async def _seed_community(
    n: int, ledger: Ledger, access: Access, args: argparse.Namespace, out: Requests
) -> None:
    rng = random.Random(n)
    community = await ledger.create_community(f"c{n:04}", f"Community {n}")
    base = f"{API}/c{n:04}"
    members = [
        await ledger.create_member(community.id, f"Member {n}-{i}", hours_min=-(10**7))
        for i in range(args.members)
    ]
    _, key = await access.issue_api_key(community.id, "bench", frozenset({Scope.TREASURER}))
    giver, receiver = members[0], members[1]
    sessions: dict[uuid.UUID, tuple[str, str]] = {}
    for member in (giver, receiver):
        _, token = await access.issue_member_token(community.id, member.id, "bench")
        principal = await access.authenticate(token)
        assert principal is not None
        _, secret = await access.start_session(principal, timedelta(hours=12))
        sessions[member.id] = (token, f"cl_session={secret}")
    exchanges = Exchanges(ledger)
    for _ in range(args.pending):
        exchange = await exchanges.record(
            community.id, provider_id=giver.id, receiver_id=receiver.id, minutes=30,
            description="Helped in the garden", recorded_by=giver.id,
        )  # fmt: skip
        token, _ = sessions[receiver.id]
        out.lines["exchange_confirm"].append(
            _line("POST", f"{base}/exchanges/{exchange.id}/confirm", token=token)
        )
    for member in (giver, receiver):
        token, cookie = sessions[member.id]
        account = member.hours_account_id
        out.lines["balance_read"].append(
            _line("GET", f"{base}/accounts/{account}/balance", token=token)
        )
        out.lines["member_page"] += [
            _line("GET", "/", cookie=cookie),
            _line("GET", "/exchanges", cookie=cookie),
        ]
        out.lines["statement"].append(
            _line("GET", f"{base}/accounts/{account}/postings", token=key)
        )
    record = {
        "provider_member_id": str(giver.id), "receiver_member_id": str(members[2].id),
        "minutes": 45, "description": "Repaired a bike",
    }  # fmt: skip
    out.lines["exchange_record"].append(
        _line("POST", f"{base}/exchanges", token=sessions[giver.id][0], body=record)
    )
    year = date.today().year
    out.lines["report"].append(
        _line("GET", f"{base}/reports/sustainability?from={year}-01-01&to={year}-12-31", token=key)
    )
    for _ in range(20):
        debit, credit = rng.sample(members, 2)
        body = {
            "debit_account_id": str(debit.hours_account_id),
            "credit_account_id": str(credit.hours_account_id),
            "amount": 1, "description": "bench",
        }  # fmt: skip
        out.transfers.append(_line("POST", f"{base}/transfers", token=key, body=body))


async def seed(url: str, args: argparse.Namespace) -> Requests:
    engine = create_engine(url)
    out = Requests()
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        ledger, access = Ledger(uow), Access(uow)
        gate = asyncio.Semaphore(8)

        async def one(n: int) -> None:
            async with gate:
                await _seed_community(n, ledger, access, args, out)

        await asyncio.gather(*(one(n) for n in range(args.communities)))
    finally:
        await engine.dispose()
    return out


def _wrk(
    server: Server, lines: Path, clients: int, seconds: int, once: bool
) -> subprocess.Popen[str]:
    threads = 1 if once or clients < 4 else 2
    command = [
        "wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--latency",
        "--timeout", "30s", "-s", str(service_load.WRK / "mix.lua"), server.url, "--", str(lines),
        *(["once"] if once else []),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _everyday(server: Server, files: dict[str, Path], seconds: int) -> dict[str, Load]:
    cpu, children = server.cpu_s(), service_load.children_cpu_s()
    running = {
        kind: _wrk(server, files[kind], clients, seconds, once=kind == "exchange_confirm")
        for kind, clients in CLIENTS.items()
    }
    # The server's CPU is shared by every kind: each Load's per-request figure is the whole
    # run's CPU over that kind's requests, so only the total below means anything.
    return {kind: service_load.measured(server, p, cpu, children) for kind, p in running.items()}


def _total_requests(loads: dict[str, Load], seconds: int) -> float:
    return sum(load.rate.per_s for load in loads.values()) * seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--members", type=int, default=6)
    parser.add_argument(
        "--pending", type=int, default=15, help="exchanges to confirm, per community"
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report: dict[str, object] = {"settings": vars(args) | {"json": None}}
    with tempfile.TemporaryDirectory(prefix="bench-mix-") as name:
        folder = Path(name)
        async with fresh_database("mix") as url, fresh_database("mix_baseline") as base_url:
            requests = await seed(url, args)
            files = {}
            for kind, lines in requests.lines.items():
                files[kind] = folder / f"{kind}.tsv"
                files[kind].write_text("\n".join(lines) + "\n")
            transfers = folder / "transfers.tsv"
            transfers.write_text("\n".join(requests.transfers) + "\n")
            with service_load.serving(url, folder / "service.log") as server:
                cpu_before = server.cpu_s()
                mix = _everyday(server, files, args.seconds)
                cpu_ms = (
                    (server.cpu_s() - cpu_before)
                    * 1000
                    / max(_total_requests(mix, args.seconds), 1)
                )
                cpu, children = server.cpu_s(), service_load.children_cpu_s()
                spread = service_load.measured(
                    server, _wrk(server, transfers, 32, args.seconds, once=False), cpu, children
                )
            await baseline.prepare(base_url, args.communities * args.members)
            pgbench = baseline.pgbench(
                base_url, "transfer_statements.sql", clients=32, seconds=args.seconds,
                accounts=args.communities * args.members,
            )  # fmt: skip
    print(
        f"everyday mix over {args.communities} communities, 32 clients"
        f" (server {cpu_ms:.2f} ms CPU per request)"
    )
    print(f"{'kind':<18}{'clients':>8}{'per s':>9}{'p50':>9}{'p99':>10}{'failures':>10}")
    for kind, load in mix.items():
        print(
            f"{kind:<18}{CLIENTS[kind]:>8}{load.rate.per_s:>9.1f}{load.rate.p50_ms or 0:>7.1f}ms"
            f"{load.rate.p99_ms or 0:>8.1f}ms{load.failures:>10}"
        )
    share = spread.rate.per_s / pgbench.per_s
    print(
        f"transfers over {args.communities} communities, 32 clients: {spread.rate.per_s:.0f}/s"
        f" (p99 {spread.rate.p99_ms or 0:.1f} ms, {spread.failures} failures) against pgbench's"
        f" {pgbench.per_s:.0f}/s: {share:.0%} (goal ≥ 35 %)"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    report |= {
        "mix": {k: vars(v.rate) | {"failures": v.failures} for k, v in mix.items()},
        "mix_server_cpu_ms_per_request": cpu_ms,
        "transfers_spread": vars(spread.rate) | {"failures": spread.failures},
        "pgbench_transfer_statements_32": vars(pgbench),
        "share": share,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
