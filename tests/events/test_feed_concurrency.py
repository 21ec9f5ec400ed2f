"""Concurrent writers never make the pull feed skip or repeat an event.

A reader polls "after the last position seen" while many writers commit at once. Were the
position a global sequence, a transaction holding a smaller number could commit after one
holding a larger number, and the reader would have moved past it for good; the audit seq, given
out under the chain head's lock held to commit, cannot.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.outbox import Event
from ledger.books.service import Ledger
from ledger.events.feed import EventFeed
from ledger.kernel.model import Community
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.events import SqlEventStore
from tests.ledger.test_service import transfer

WRITERS = 12
ENTRIES_PER_WRITER = 25


async def test_a_polling_reader_sees_every_event_once_in_order(
    database_url: str, engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    members = [
        await ledger.create_member(community.id, f"M{i}", hours_min=-100_000) for i in range(4)
    ]
    # Writers on an engine of their own, with a pool wide enough for all of them at once.
    writer_engine = create_engine(database_url)
    writer_ledger = Ledger(SqlUnitOfWorkFactory(writer_engine))
    feed = EventFeed(SqlUnitOfWorkFactory(engine), SqlEventStore.of)
    done = asyncio.Event()

    async def write(worker: int) -> None:
        for i in range(ENTRIES_PER_WRITER):
            debit, credit = members[(worker + i) % 4], members[(worker + i + 1) % 4]
            await writer_ledger.post_entry(
                community.id, transfer(debit.hours_account_id, credit.hours_account_id, 1)
            )

    seen: list[Event] = []
    polls = 0

    async def read() -> None:
        nonlocal polls
        after = (0, 0)
        while True:
            finished = done.is_set()
            page = await feed.page(community.id, after=after, limit=7)
            polls += 1
            seen.extend(page.events)
            if page.events:
                after = page.events[-1].position
            if finished and not page.events:
                return
            if not page.events:
                await asyncio.sleep(0.001)

    try:
        reader = asyncio.create_task(read())
        await asyncio.gather(*(write(worker) for worker in range(WRITERS)))
        done.set()
        await reader
    finally:
        await writer_engine.dispose()

    everything = (await feed.page(community.id, limit=1000)).events
    assert len(everything) == 4 + WRITERS * ENTRIES_PER_WRITER
    assert [event.id for event in seen] == [event.id for event in everything]
    positions = [event.position for event in seen]
    assert positions == sorted(set(positions))
    # The reader really polled while the writers were committing.
    assert polls > 10
