"""What the outbox and the balance-monitor check add to ``Ledger.post_entry``, and what a feed
page costs, on PostgreSQL.

    .venv/bin/python -m bench.events_overhead [--entries 500]

Posts entries one after another, switching the outbox (the events written with each audit
record) and the monitor check (one SELECT per counter write) on and off entry by entry, so that
load from elsewhere on the machine falls on every variant alike; prints the median and p95 of
each, then the time to read the whole feed in pages of 500 as a treasurer and as a member.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from bench.databases import fresh_database
from ledger.audit import outbox
from ledger.books.service import Ledger
from ledger.events.feed import EventFeed, Viewer
from ledger.kernel.model import NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.events import SqlEventStore
from ledger.store.migrate import upgrade
from ledger.store.monitor_watch import SqlMonitorWatch

VARIANTS = ((False, False), (True, False), (False, True), (True, True))


async def _skip_watch(*_: Any) -> list[Any]:
    return []


async def _run(url: str, entries: int) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.create_community("bench-events", "Bench")
        ann = await ledger.create_member(community.id, "Ann", hours_min=-(10**9))
        bob = await ledger.create_member(community.id, "Bob", hours_min=-(10**9))
        spec = NewEntry(
            (PostingSpec(ann.hours_account_id, 1), PostingSpec(bob.hours_account_id, -1))
        )
        mapping, watch = dict(outbox.EVENTS_OF), SqlMonitorWatch.watch
        times: dict[tuple[bool, bool], list[float]] = {variant: [] for variant in VARIANTS}
        try:
            for i in range(entries * len(VARIANTS)):
                events_on, watch_on = variant = VARIANTS[i % len(VARIANTS)]
                outbox.EVENTS_OF.clear()  # type: ignore[attr-defined]
                if events_on:
                    outbox.EVENTS_OF.update(mapping)  # type: ignore[attr-defined]
                chosen = watch if watch_on else _skip_watch
                SqlMonitorWatch.watch = chosen  # type: ignore[method-assign,assignment]
                started = time.perf_counter()
                await ledger.post_entry(community.id, spec)
                times[variant].append(time.perf_counter() - started)
        finally:
            outbox.EVENTS_OF.clear()  # type: ignore[attr-defined]
            outbox.EVENTS_OF.update(mapping)  # type: ignore[attr-defined]
            SqlMonitorWatch.watch = watch  # type: ignore[method-assign]
        for (events_on, watch_on), found in times.items():
            found.sort()
            print(
                f"outbox={events_on!s:5} monitor_check={watch_on!s:5} "
                f"p50 {statistics.median(found) * 1000:.2f} ms  "
                f"p95 {found[int(len(found) * 0.95)] * 1000:.2f} ms"
            )
        feed = EventFeed(SqlUnitOfWorkFactory(engine), SqlEventStore.of)
        member = Viewer(ann.id, frozenset({ann.hours_account_id}))
        for label, viewer in (("treasurer", None), ("member", member)):
            started, after, seen = time.perf_counter(), (0, 0), 0
            while True:
                page = await feed.page(community.id, after=after, limit=500, viewer=viewer)
                seen += len(page.events)
                if page.next_position is None:
                    break
                after = page.next_position
            took_ms = (time.perf_counter() - started) * 1000
            print(f"feed as {label}: {seen} events in {took_ms:.0f} ms")
    finally:
        await engine.dispose()


async def _main(entries: int) -> None:
    async with fresh_database("cl_bench_events") as url:
        await _run(url, entries)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=500, help="entries per variant")
    asyncio.run(_main(parser.parse_args().entries))
