"""Cross transfers between two communities of one install, beside local transfers in the same
run: throughput and latency through the service layer (no HTTP), per engine.

    .venv/bin/python -m bench.federation_local [--clients 8] [--transfers 100] [--members 50]

Prints one line per engine and kind: transfers/s, p50 and p99 latency in ms. ``local``: a
transfer between two members of one community (``Ledger.post_entry``); ``cross``: a cross
transfer (``Transfers.create``: prepare, decide and settle in one transaction), half of the
clients paying each way over one link, which every cross transfer locks on both sides. Compare
runs on the same machine, medians of several.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.databases import fresh_database
from ledger.books.service import Ledger
from ledger.federation.model import CommodityTerms, Rate, TransferRequest
from ledger.federation.ports import FederationTransactions
from ledger.federation.service import Federation
from ledger.governance.model import Role
from ledger.governance.service import Governance
from ledger.governance.transactions import GovernanceTransactions
from ledger.kernel.clock import utc_now
from ledger.kernel.model import HOURS, Community, Member, NewEntry, PostingSpec, new_id
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.federation import SqlFederationStore
from ledger.store.governance import SqlGovernanceStore
from ledger.store.migrate import upgrade

LIMIT = 2**40


async def _community(
    ledger: Ledger, governance: Governance, members: int
) -> tuple[Community, list[Member]]:
    community = await ledger.create_community(f"bench-{uuid.uuid4().hex[:10]}", "Bench")
    people = [
        await ledger.create_member(community.id, f"M{i}", hours_min=-LIMIT) for i in range(members)
    ]
    await governance.roles.assign(community.id, people[0].id, Role.STEWARD)
    return community, people


async def _timed(
    clients: int, count: int, one: Callable[[random.Random, int], Awaitable[object]]
) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(count):
            started = time.perf_counter()
            await one(rng, seed)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(seed) for seed in range(clients)))
    return time.perf_counter() - started, latencies


async def _bench(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url, **({"pool_size": args.clients} if "postgresql" in url else {}))
    try:
        await upgrade(engine)
        units = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(units)
        governance = Governance.over(
            GovernanceTransactions(units, SqlGovernanceStore.of, utc_now), ledger
        )
        federation = Federation.over(
            FederationTransactions(units, SqlFederationStore.of, SqlGovernanceStore.of, utc_now)
        )
        a, a_people = await _community(ledger, governance, args.members)
        b, b_people = await _community(ledger, governance, args.members)
        terms = (CommodityTerms(HOURS, HOURS, Rate(1, 1), LIMIT, LIMIT),)
        link = await federation.links.propose(a.id, b.slug, terms)
        await federation.links.consent(a.id, link.id, 1, a_people[0].id)
        await federation.links.accept(b.id, link.id, b_people[0].id)

        async def local(rng: random.Random, _: int) -> None:
            payer, payee = rng.sample(a_people, 2)
            postings = (
                PostingSpec(payer.hours_account_id, 1),
                PostingSpec(payee.hours_account_id, -1),
            )
            await ledger.post_entry(a.id, NewEntry(postings))

        async def cross(rng: random.Random, seed: int) -> None:
            (here, mine), theirs = (
                ((a, a_people), b_people) if seed % 2 else ((b, b_people), a_people)
            )
            request = TransferRequest(
                new_id(), link.id, rng.choice(mine).id, rng.choice(theirs).id, HOURS, 1
            )
            await federation.transfers.create(here.id, request)

        for kind, one in (("local", local), ("cross", cross)):
            elapsed, latencies = await _timed(args.clients, args.transfers, one)
            q = statistics.quantiles(latencies, n=100)
            sys.stdout.write(
                f"{name:<10} {kind:<6} clients={args.clients:<3} "
                f"{len(latencies) / elapsed:8.0f} transfers/s  "
                f"p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms\n"
            )
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--transfers", type=int, default=100, help="per client")
    parser.add_argument("--members", type=int, default=50, help="per community")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await _bench("sqlite", f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args)
    async with fresh_database("cl_bench") as url:
        await _bench("postgresql", url, args)


if __name__ == "__main__":
    asyncio.run(main())
