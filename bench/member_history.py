"""What the member page's figures cost as a member's history grows: the member's month, the
latest exchanges with those waiting for an answer, and the community's month, for a member with
``--small`` and with ``--large`` exchanges: the same month and the same exchanges waiting for
an answer, behind them a history of two years that grows.

    .venv/bin/python -m bench.member_history [--small 100] [--large 2000]
        [--engine sqlite|postgresql|both] [--repeat 5]

Each figure is timed on both histories in the same run (the median of ``--repeat`` calls after
one to warm up) and printed with the ratio large/small: a page whose cost follows the history
shows about ``large/small``; one that reads only what it shows stays near 1. PostgreSQL: a fresh
database on ``COMMONS_LEDGER_BENCH_DATABASE_URL``'s server (default the local one); SQLite: a
file in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

from bench.databases import fresh_database
from bench.growth import median_ms
from ledger.books.service import Ledger
from ledger.kernel.model import Member, NewEntry
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade
from ledger.timebank.exchanges import exchange_entry
from ledger.timebank.member_overview import MemberOverview

START = date(2025, 1, 1)
DAYS = 730


async def _member_with(ledger: Ledger, exchanges: int, today: date) -> tuple[uuid.UUID, uuid.UUID]:
    """A community of its own whose first member took part in ``exchanges`` exchanges: the same
    15 confirmed this month and 5 pending in every history, the rest confirmed in the two years
    before — so what the page shows is the same, and only the history behind it grows."""
    community = await ledger.create_community(f"h-{uuid.uuid4().hex[:10]}", "History")
    ann, bob = [await ledger.create_member(community.id, name, hours_min=-(10**9)) for name in "AB"]
    first = today.replace(day=1)

    def help_on(giver: Member, receiver: Member, day: date, *, pending: bool = False) -> NewEntry:
        return exchange_entry(giver, receiver, 30, "help", effective_date=day, pending=pending)

    entries = [
        help_on(*((ann, bob) if i % 2 else (bob, ann)), first - timedelta(days=1 + i % DAYS))
        for i in range(exchanges - 20)
    ]
    entries += [help_on(bob, ann, first + timedelta(days=i % 10)) for i in range(15)]
    entries += [help_on(bob, ann, first, pending=True) for _ in range(5)]
    for start in range(0, len(entries), 200):
        await asyncio.gather(
            *(ledger.post_entry(community.id, e) for e in entries[start : start + 200])
        )
    return community.id, ann.id


def _calls(
    overview: MemberOverview, community_id: uuid.UUID, member_id: uuid.UUID, today: date
) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "the member's month": lambda: overview.member_month(community_id, member_id, today),
        "latest 20 and those waiting": lambda: overview.recent(community_id, member_id, 20),
        "the community's month": lambda: overview.community_month(community_id, today),
    }


@contextlib.asynccontextmanager
async def _database(engine: str) -> AsyncIterator[str]:
    if engine == "postgresql":
        async with fresh_database("cl_bench_history") as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'history.db'}"


async def _run(engine_name: str, sizes: tuple[int, int], repeat: int) -> None:
    async with _database(engine_name) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            ledger = Ledger(SqlUnitOfWorkFactory(engine))
            overview = MemberOverview(ledger)
            today = START + timedelta(days=DAYS + 20)
            members = [await _member_with(ledger, size, today) for size in sizes]
            figures: dict[str, list[float]] = {}
            for community_id, member_id in members:
                for name, call in _calls(overview, community_id, member_id, today).items():
                    figures.setdefault(name, []).append(await median_ms(call, repeat))
        finally:
            await engine.dispose()
    small, large = sizes
    print(f"{engine_name}: a member with {small:,} exchanges, and with {large:,}")
    for name, (at_small, at_large) in figures.items():
        print(f"  {name:30s} {at_small:8.1f} ms {at_large:8.1f} ms   ×{at_large / at_small:.1f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=2_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    for engine in engines:
        await _run(engine, (args.small, args.large), args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
