"""The outbox: every committed write records its events with it, a rejected one none."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.outbox import EVENTS_OF, Event, NewEvent, events_of
from ledger.books.service import Ledger, NewAccount
from ledger.events.feed import EventFeed, Viewer
from ledger.kernel import errors
from ledger.kernel.model import HOURS, AccountType, Community, IdempotencyKey
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.events import SqlEventStore
from ledger.timebank.exchanges import Exchanges
from tests.ledger.test_service import transfer


@pytest.fixture
def feed(engine: AsyncEngine) -> EventFeed:
    return EventFeed(SqlUnitOfWorkFactory(engine), SqlEventStore.of)


async def all_events(feed: EventFeed, community: Community, **kwargs: object) -> list[str]:
    page = await feed.page(community.id, limit=500, **kwargs)  # type: ignore[arg-type]
    return [event.type for event in page.events]


async def test_each_write_emits_its_events_in_commit_order(
    ledger: Ledger, feed: EventFeed, community: Community
) -> None:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-600)
    bob = await ledger.create_member(community.id, "Bob", hours_min=-600)
    pool = await ledger.open_account(
        community.id, NewAccount("pool", "Pool", AccountType.ASSET, HOURS)
    )
    pending = await ledger.post_entry(
        community.id, transfer(ann.hours_account_id, pool.id, 30, pending=True)
    )
    await ledger.void_pending(community.id, pending.id)
    posted = await ledger.post_entry(community.id, transfer(ann.hours_account_id, pool.id, 45))
    reversal = await ledger.reverse(community.id, posted.id)
    exchanges = Exchanges(ledger)
    exchange = await exchanges.record(
        community.id, provider_id=ann.id, receiver_id=bob.id, minutes=60, description="Gardening"
    )
    await exchanges.confirm(community.id, exchange.id)

    page = await feed.page(community.id, limit=500)
    assert [event.type for event in page.events] == [
        "member.created",
        "member.created",
        # open_account is in no mapping: it emits nothing
        "entry.pending",
        "entry.voided",
        "entry.posted",
        "entry.reversed",
        "entry.pending",
        "exchange.requested",
        "entry.posted",
        "exchange.confirmed",
    ]
    positions = [event.position for event in page.events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert len({event.id for event in page.events}) == len(page.events)
    assert page.next_position is None
    by_type = {event.type: event for event in page.events}
    assert by_type["entry.reversed"].resource_id == str(reversal.id)
    assert by_type["entry.reversed"].data["reverses"] == str(posted.id)
    assert by_type["exchange.confirmed"].member_ids == (ann.id, bob.id)
    assert by_type["member.created"].data["name"] in {"Ann", "Bob"}
    # One write, two events: an exchange's entry event and its exchange event share the seq.
    requested = by_type["exchange.requested"]
    assert requested.n == 1 and requested.resource_id == str(exchange.id)


async def test_a_rejected_write_leaves_no_event(
    ledger: Ledger, feed: EventFeed, community: Community
) -> None:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-60)
    bob = await ledger.create_member(community.id, "Bob")
    before = await all_events(feed, community)
    with pytest.raises(errors.LimitExceeded):
        await ledger.post_entry(
            community.id, transfer(ann.hours_account_id, bob.hours_account_id, 61)
        )
    # Also under an idempotency key, where the rejection itself is stored.
    key = IdempotencyKey("tester", "k1")
    with pytest.raises(errors.LimitExceeded):
        await ledger.post_entry(
            community.id, transfer(ann.hours_account_id, bob.hours_account_id, 61), key
        )
    assert await all_events(feed, community) == before


async def test_a_replayed_write_emits_nothing_more(
    ledger: Ledger, feed: EventFeed, community: Community
) -> None:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-600)
    bob = await ledger.create_member(community.id, "Bob")
    key = IdempotencyKey("tester", "k2")
    spec = transfer(bob.hours_account_id, ann.hours_account_id, 10)
    await ledger.post_entry(community.id, spec, key)
    await ledger.post_entry(community.id, spec, key)
    assert (await all_events(feed, community)).count("entry.posted") == 1


async def test_pages_and_filters(ledger: Ledger, feed: EventFeed, community: Community) -> None:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-600)
    bob = await ledger.create_member(community.id, "Bob", hours_min=-600)
    for minutes in range(1, 6):
        await ledger.post_entry(
            community.id, transfer(ann.hours_account_id, bob.hours_account_id, minutes)
        )
    seen: list[Event] = []
    after = (0, 0)
    while True:
        page = await feed.page(community.id, after=after, limit=2)
        seen += page.events
        if page.next_position is None:
            break
        after = page.next_position
    assert [event.type for event in seen] == ["member.created"] * 2 + ["entry.posted"] * 5
    assert await all_events(feed, community, types=["member.created"]) == ["member.created"] * 2
    with pytest.raises(errors.InvalidInput):
        await feed.page(community.id, types=["entry.nonsense"])


async def test_a_member_sees_only_events_about_itself(
    ledger: Ledger, feed: EventFeed, community: Community
) -> None:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-600)
    bob = await ledger.create_member(community.id, "Bob", hours_min=-600)
    cid = await ledger.create_member(community.id, "Cid", hours_min=-600)
    await ledger.post_entry(community.id, transfer(bob.hours_account_id, cid.hours_account_id, 5))
    mine = await ledger.post_entry(
        community.id, transfer(ann.hours_account_id, cid.hours_account_id, 7)
    )
    viewer = Viewer(ann.id, frozenset({ann.hours_account_id}))
    page = await feed.page(community.id, limit=1, viewer=viewer)
    assert [event.resource_id for event in page.events] == [str(ann.id)]
    assert page.next_position is not None
    page = await feed.page(community.id, after=page.next_position, limit=10, viewer=viewer)
    assert [event.resource_id for event in page.events] == [str(mine.id)]
    assert page.next_position is None


def test_unknown_operations_emit_nothing_and_a_feature_adds_one_line() -> None:
    assert events_of("open_account", object()) == ()
    assert events_of("issue_api_key", object()) == ()
    assert all(callable(mapper) for mapper in EVENTS_OF.values())
    assert isinstance(NewEvent("t.x", "k", "1", {}).id.int, int)
