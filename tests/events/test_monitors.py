"""Balance monitors: one event per crossing, in the transaction of the write that crosses."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.outbox import Event
from ledger.books.service import Ledger
from ledger.events.feed import EventFeed
from ledger.events.monitors import Monitors
from ledger.kernel import errors
from ledger.kernel.clock import utc_now
from ledger.kernel.model import Community, Member
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.events import SqlEventStore
from ledger.store.monitors import SqlMonitorStore
from tests.ledger.test_service import transfer


@pytest.fixture
def monitors(engine: AsyncEngine) -> Monitors:
    return Monitors(SqlUnitOfWorkFactory(engine), SqlMonitorStore.of, utc_now)


@pytest.fixture
def feed(engine: AsyncEngine) -> EventFeed:
    return EventFeed(SqlUnitOfWorkFactory(engine), SqlEventStore.of)


async def crossings(feed: EventFeed, community: Community) -> list[Event]:
    page = await feed.page(community.id, types=["balance.threshold_crossed"], limit=1000)
    return list(page.events)


async def pair(ledger: Ledger, community: Community) -> tuple[Member, Member]:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-600)
    bob = await ledger.create_member(community.id, "Bob", hours_min=-600)
    return ann, bob


async def test_one_event_per_crossing_each_way(
    ledger: Ledger, monitors: Monitors, feed: EventFeed, community: Community
) -> None:
    ann, bob = await pair(ledger, community)
    monitor = await monitors.create(
        community.id, ann.hours_account_id, direction="below", threshold=-100
    )
    assert monitor.crossed is False

    async def give(minutes: int) -> None:  # Ann receives help: her balance falls
        await ledger.post_entry(
            community.id, transfer(ann.hours_account_id, bob.hours_account_id, minutes)
        )

    await give(60)  # -60: above
    await give(60)  # -120: crossed below
    await give(60)  # -180: still below, no event
    await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 100)
    )  # -80: back
    await give(30)  # -110: below again
    found = await crossings(feed, community)
    assert [(e.data["beyond"], e.data["value"]) for e in found] == [
        (True, -120),
        (False, -80),
        (True, -110),
    ]
    assert all(e.resource_id == str(monitor.id) for e in found)
    assert (await monitors.get(community.id, monitor.id)).crossed is True
    # The crossing is in the same write as its entry: the entry event comes first, same seq.
    page = await feed.page(community.id, limit=1000)
    first = next(i for i, e in enumerate(page.events) if e.type == "balance.threshold_crossed")
    assert page.events[first - 1].type == "entry.posted"
    assert page.events[first - 1].seq == page.events[first].seq


async def test_available_watches_pending_reservations(
    ledger: Ledger, monitors: Monitors, feed: EventFeed, community: Community
) -> None:
    ann, bob = await pair(ledger, community)
    # "Within 60 minutes of her -600 limit", counting pending exchanges.
    await monitors.create(
        community.id, ann.hours_account_id, direction="below", threshold=-540, measure="available"
    )
    posted_only = await monitors.create(
        community.id, ann.hours_account_id, direction="below", threshold=-540
    )
    pending = await ledger.post_entry(
        community.id, transfer(ann.hours_account_id, bob.hours_account_id, 550, pending=True)
    )
    await ledger.void_pending(community.id, pending.id)
    found = await crossings(feed, community)
    assert [e.data["beyond"] for e in found] == [True, False]
    assert {e.data["measure"] for e in found} == {"available"}
    assert (await monitors.get(community.id, posted_only.id)).crossed is False


async def test_a_monitor_starts_on_the_current_side_and_above_works(
    ledger: Ledger, monitors: Monitors, feed: EventFeed, community: Community
) -> None:
    ann, bob = await pair(ledger, community)
    await ledger.post_entry(community.id, transfer(bob.hours_account_id, ann.hours_account_id, 90))
    monitor = await monitors.create(
        community.id, ann.hours_account_id, direction="above", threshold=60
    )
    assert monitor.crossed is True and await crossings(feed, community) == []
    await ledger.post_entry(community.id, transfer(ann.hours_account_id, bob.hours_account_id, 40))
    assert [e.data["beyond"] for e in await crossings(feed, community)] == [False]


async def test_a_rejected_write_crosses_nothing(
    ledger: Ledger, monitors: Monitors, feed: EventFeed, community: Community
) -> None:
    ann, bob = await pair(ledger, community)
    monitor = await monitors.create(
        community.id, ann.hours_account_id, direction="below", threshold=-100
    )
    with pytest.raises(errors.LimitExceeded):
        await ledger.post_entry(
            community.id, transfer(ann.hours_account_id, bob.hours_account_id, 601)
        )
    assert await crossings(feed, community) == []
    assert (await monitors.get(community.id, monitor.id)).crossed is False


async def test_monitors_are_listed_deleted_and_checked(
    ledger: Ledger, monitors: Monitors, community: Community
) -> None:
    ann, bob = await pair(ledger, community)
    monitor = await monitors.create(
        community.id, ann.hours_account_id, direction="below", threshold=0
    )
    assert [m.id for m in await monitors.list(community.id)] == [monitor.id]
    assert await monitors.list(community.id, account_id=bob.hours_account_id) == []
    await monitors.delete(community.id, monitor.id)
    assert await monitors.list(community.id) == []
    with pytest.raises(errors.NotFound):
        await monitors.get(community.id, monitor.id)
    with pytest.raises(errors.AccountNotFound):
        await monitors.create(community.id, community.id, direction="below", threshold=0)
    with pytest.raises(errors.InvalidInput):
        await monitors.create(community.id, ann.hours_account_id, direction="under", threshold=0)


async def test_concurrent_writers_never_double_or_miss_a_crossing(
    database_url: str, ledger: Ledger, monitors: Monitors, feed: EventFeed, community: Community
) -> None:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-10_000)
    bob = await ledger.create_member(community.id, "Bob", hours_min=-10_000)
    monitor = await monitors.create(
        community.id, ann.hours_account_id, direction="below", threshold=0
    )
    writer_engine = create_engine(database_url)
    writers = Ledger(SqlUnitOfWorkFactory(writer_engine))
    # Ending 140 minutes below zero, the walk crosses at least once, and often more.
    moves = [7] * 90 + [-7] * 70
    random.Random(7).shuffle(moves)

    async def write(chunk: list[int]) -> None:
        for minutes in chunk:
            debit, credit = (
                (ann, bob) if minutes > 0 else (bob, ann)
            )  # a positive move lowers Ann's balance
            await writers.post_entry(
                community.id,
                transfer(debit.hours_account_id, credit.hours_account_id, abs(minutes)),
            )

    try:
        await asyncio.gather(*(write(moves[i::8]) for i in range(8)))
    finally:
        await writer_engine.dispose()
    found = [e.data["beyond"] for e in await crossings(feed, community)]
    assert found, "the walk never crossed: the test proves nothing"
    # Crossings alternate, starting from the monitor's first side, and end where the balance is.
    assert found == [i % 2 == 0 for i in range(len(found))]
    balance = (await ledger.balance(community.id, ann.hours_account_id)).posted
    assert (await monitors.get(community.id, monitor.id)).crossed == (balance < 0)
    assert found[-1] == (balance < 0)
