"""Cross transfers between two nodes — two ``commons-ledger serve`` processes on loopback, A on
SQLite and B on PostgreSQL, linked by ``federation invite`` / ``accept-invite`` — beside local
transfers on A in the same run, over HTTP.

    .venv/bin/python -m bench.federation_nodes [--clients 4] [--transfers 20] [--rounds 2]
                                               [--poll-ms 500]

``local``: ``POST …/transfers`` between two members of A's community (posted when it answers).
``cross``: ``POST …/federation/transfers`` from a member of A to a member of B, timed until A
has settled it — A answers ``prepared``; its peer outbox loop sends the signed prepare; B
decides and answers; A records the answer — read by polling the transfer every 50 ms. Rounds
alternate the two kinds; each prints transfers/s and p50/p99 latency, then the ratios of cross
to local. The outbox loop's poll (``COMMONS_LEDGER_PEER_POLL_MS``, 500 ms by default as in
production) bounds the latency of a lone transfer: a new message waits for the next pass.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.databases import fresh_database

TOKEN = secrets.token_urlsafe(32)
WIDE = 10**7
"""Limits no run reaches: the link's both ways and every member's."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Node:
    database_url: str
    log: Path
    poll_ms: int
    port: int = 0
    slug: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "COMMONS_LEDGER_DATABASE_URL": self.database_url,
            "COMMONS_LEDGER_ADMIN_TOKEN": TOKEN,
            "COMMONS_LEDGER_RATE_LIMIT_PER_S": "0",
            "COMMONS_LEDGER_NODE_URL": self.url,
            "COMMONS_LEDGER_PEER_ALLOW": "127.0.0.1",
            "COMMONS_LEDGER_PEER_POLL_MS": str(self.poll_ms),
        }

    def cli(self, *arguments: str) -> str:
        done = subprocess.run(
            [_command(), *arguments], env=self.env(), capture_output=True, text=True, check=True
        )
        return done.stdout

    def serve(self, stack: ExitStack) -> None:
        self.port = _free_port()
        command = [_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        sink = stack.enter_context(self.log.open("ab"))
        process = subprocess.Popen(command, env=self.env(), stdout=sink, stderr=subprocess.STDOUT)
        stack.callback(process.wait, 30)
        stack.callback(process.terminate)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit(f"the node did not start: {self.log.read_text()[-2000:]}")

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(
            method,
            f"{self.url}/api/v1/communities{path}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
            **kwargs,
        )
        if answer.is_error:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def community(self, name: str, members: int) -> list[dict[str, Any]]:
        self.slug = f"{name.lower()}-{uuid.uuid4().hex[:8]}"
        self.call("POST", "", json={"slug": self.slug, "name": name})
        return [
            self.call("POST", f"/{self.slug}/members", json={"name": f"M{i}", "hours_min": -WIDE})
            for i in range(members)
        ]


def _command() -> str:
    return str(Path(sys.executable).parent / "commons-ledger")


def _link(a: Node, b: Node) -> str:
    terms = f"HOURS:HOURS:1/1:{WIDE}:{WIDE}"
    invitation = a.cli("federation", "invite", a.slug, "--terms", terms).strip()
    acceptance = b.cli("federation", "accept-invite", b.slug, invitation).splitlines()[-1]
    return a.cli("federation", "accept-invite", a.slug, acceptance.strip()).split()[1]


def _timed(clients: int, count: int, one: Callable[[int, int], None]) -> tuple[float, list[float]]:
    def client(seed: int) -> list[float]:
        latencies = []
        for i in range(count):
            started = time.perf_counter()
            one(seed, i)
            latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = [x for done in pool.map(client, range(clients)) for x in done]
    return time.perf_counter() - started, latencies


def _run(a: Node, b: Node, args: argparse.Namespace) -> None:
    a_people, b_people = a.community("Riverside", 8), b.community("Hilltop", 8)
    link_id = _link(a, b)

    def local(seed: int, i: int) -> None:
        payer, payee = a_people[seed % 8], a_people[(seed + 1 + i % 7) % 8]  # never the payer
        body = {
            "debit_account_id": payee["hours_account_id"],
            "credit_account_id": payer["hours_account_id"],
            "amount": 1,
            "description": "bench",
        }
        a.call("POST", f"/{a.slug}/transfers", json=body)

    def cross(seed: int, i: int) -> None:
        body = {
            "link_id": link_id,
            "payer_member_id": a_people[seed % 8]["id"],
            "payee_member_id": b_people[i % 8]["id"],
            "commodity": "HOURS",
            "amount": 1,
        }
        made = a.call("POST", f"/{a.slug}/federation/transfers", json=body)
        while made["state"] == "prepared":
            time.sleep(0.05)
            made = a.call("GET", f"/{a.slug}/federation/transfers/{made['id']}")
        assert made["state"] == "committed", made

    figures: dict[str, list[tuple[float, float, float]]] = {"local": [], "cross": []}
    for round_ in range(args.rounds):
        for kind, one in (("local", local), ("cross", cross)):
            elapsed, latencies = _timed(args.clients, args.transfers, one)
            q = statistics.quantiles(latencies, n=100)
            figure = (len(latencies) / elapsed, q[49] * 1000, q[98] * 1000)
            figures[kind].append(figure)
            sys.stdout.write(
                f"round {round_ + 1} {kind:<6} clients={args.clients:<3} {figure[0]:7.1f} "
                f"transfers/s  p50 {figure[1]:7.1f} ms  p99 {figure[2]:7.1f} ms\n"
            )
    local_m, cross_m = (
        [statistics.median(f[i] for f in figures[k]) for i in range(3)] for k in ("local", "cross")
    )
    sys.stdout.write(
        f"cross/local (medians of {args.rounds} rounds): throughput "
        f"{cross_m[0] / local_m[0]:.3f}×, p50 {cross_m[1] / local_m[1]:.1f}×, "
        f"p99 {cross_m[2] / local_m[2]:.1f}× (peer poll {args.poll_ms} ms)\n"
    )


async def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--transfers", type=int, default=20, help="per client and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--poll-ms", type=int, default=500, help="COMMONS_LEDGER_PEER_POLL_MS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        async with fresh_database("cl_bench_nodes") as b_url:
            a = Node(
                f"sqlite+aiosqlite:///{Path(folder) / 'a.db'}", Path(folder) / "a.log", args.poll_ms
            )
            b = Node(b_url, Path(folder) / "b.log", args.poll_ms)
            with ExitStack() as stack:
                a.serve(stack)
                b.serve(stack)
                await asyncio.to_thread(_run, a, b, args)


if __name__ == "__main__":
    asyncio.run(_main())
