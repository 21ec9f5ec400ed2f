"""What the audit trail's chain-head lock costs the write path, on PostgreSQL, without HTTP.

    .venv/bin/python -m bench.audit_cost [--seconds 5] [--rounds 3] [--clients 16]

Runs the same writes on one fresh database, in alternating rounds: through the real repository,
and through one whose ``append_audit`` and ``append_audit_many`` do nothing (a measurement
only — the service always audits). Scenarios: single transfers (``Ledger.post_entry`` under
an idempotency key, ``--clients`` concurrent writers) and batches of 100 (``EntryBatches``,
8 concurrent writers). Every write of a community appends to one hash chain, so its head row
is locked from the first append until commit: this prints how much throughput that
serialisation takes.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import fresh_database
from ledger.audit.chain import AuditEvent
from ledger.books.batches import BatchItem, EntryBatches
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, IdempotencyKey, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.store.repository import SqlRepository

BATCH = 100


class UnauditedRepository(SqlRepository):
    """The repository minus the audit append: for this measurement only."""

    async def append_audit(self, community_id: uuid.UUID, event: AuditEvent) -> None:
        return None

    async def append_audit_many(
        self, community_id: uuid.UUID, events: Sequence[AuditEvent]
    ) -> None:
        return None


async def _run_for(
    seconds: float, clients: int, work: Callable[[random.Random], Awaitable[int]]
) -> float:
    """Writes per second of ``clients`` loops of ``work`` (which returns writes done)."""
    deadline = time.perf_counter() + seconds
    done = 0

    async def client(seed: int) -> None:
        nonlocal done
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            written = await work(rng)  # awaited first: ``done += await …`` loses counts
            done += written

    started = time.perf_counter()
    await asyncio.gather(*(client(seed) for seed in range(clients)))
    return done / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--accounts", type=int, default=1_000)
    args = parser.parse_args()
    async with fresh_database("cl_bench_audit") as url:
        engine = create_engine(url, pool_size=max(args.clients, 8))
        try:
            await upgrade(engine)
            figures = await _rounds(engine, args)
        finally:
            await engine.dispose()
    for label, (singles, batched) in figures.items():
        sys.stdout.write(
            f"{label}: single transfers, {args.clients} clients: "
            f"{statistics.median(singles):7.0f}/s   batches of {BATCH}, 8 clients: "
            f"{statistics.median(batched):7.0f} transfers/s   (medians of {args.rounds})\n"
        )


async def _rounds(
    engine: AsyncEngine, args: argparse.Namespace
) -> dict[str, tuple[list[float], list[float]]]:
    """The two variants in alternating rounds on one community, so that both meet the same
    load from the rest of the machine."""
    setup = Ledger(SqlUnitOfWorkFactory(engine))
    community = await setup.create_community(f"b-{uuid.uuid4().hex[:10]}", "Bench")
    ids = [
        (
            await setup.open_account(
                community.id, NewAccount(f"a{i}", f"A{i}", AccountType.LIABILITY, "HOURS")
            )
        ).id
        for i in range(args.accounts)
    ]

    def spec(rng: random.Random) -> NewEntry:
        debit, credit = rng.sample(ids, 2)
        return NewEntry((PostingSpec(debit, 1), PostingSpec(credit, -1)), kind="transfer")

    figures: dict[str, tuple[list[float], list[float]]] = {}
    for _ in range(args.rounds):
        for label, repository in VARIANTS:
            uow = SqlUnitOfWorkFactory(engine, repository)
            ledger, batches = Ledger(uow), EntryBatches(uow)

            async def single(rng: random.Random, ledger: Ledger = ledger) -> int:
                key = IdempotencyKey("api_key:bench", uuid.uuid4().hex)
                await ledger.post_entry(community.id, spec(rng), key)
                return 1

            async def batch(rng: random.Random, batches: EntryBatches = batches) -> int:
                items = [BatchItem(spec(rng), uuid.uuid4().hex) for _ in range(BATCH)]
                await batches.post_entries(community.id, "api_key:bench", items)
                return BATCH

            singles, batched = figures.setdefault(label, ([], []))
            singles.append(await _run_for(args.seconds, args.clients, single))
            batched.append(await _run_for(args.seconds, 8, batch))
    return figures


VARIANTS = (
    ("with the audit append   ", SqlRepository),
    ("without the audit append", UnauditedRepository),
)


if __name__ == "__main__":
    asyncio.run(main())
