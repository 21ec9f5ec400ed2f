"""Exchange use cases over the ledger, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid

import pytest

from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import (
    Community,
    EntryStatus,
    IdempotencyKey,
    Member,
    NewEntry,
    PostingSpec,
)
from ledger.timebank.exchanges import MINUTES_MAX, Exchanges, ExchangeStatus


@pytest.fixture
def exchanges(ledger: Ledger) -> Exchanges:
    return Exchanges(ledger)


@pytest.fixture
async def ann(ledger: Ledger, community: Community) -> Member:
    return await ledger.create_member(community.id, "Ann", hours_min=-600)


@pytest.fixture
async def bob(ledger: Ledger, community: Community) -> Member:
    return await ledger.create_member(community.id, "Bob", hours_min=-600)


async def test_an_exchange_is_a_pending_entry_until_confirmed(
    ledger: Ledger, exchanges: Exchanges, community: Community, ann: Member, bob: Member
) -> None:
    exchange = await exchanges.record(
        community.id,
        provider_id=ann.id,
        receiver_id=bob.id,
        minutes=90,
        description="Bike repair",
        category="repairs",
    )
    assert (exchange.status, exchange.minutes, exchange.category) == (
        ExchangeStatus.PENDING,
        90,
        "repairs",
    )
    assert (exchange.provider_member_id, exchange.receiver_member_id) == (ann.id, bob.id)
    assert exchange.involves(ann.id) and exchange.involves(bob.id)
    assert exchange.answerable_by(bob.id) and not exchange.answerable_by(ann.id)
    assert not exchange.involves(None)
    entry = await ledger.get_entry(community.id, exchange.id)
    assert (entry.kind, entry.status) == ("exchange", EntryStatus.PENDING)
    bob_balance = await ledger.balance(community.id, bob.hours_account_id)
    assert (bob_balance.posted, bob_balance.pending) == (0, -90)

    confirmed = await exchanges.confirm(community.id, exchange.id)
    assert confirmed.status is ExchangeStatus.CONFIRMED
    assert confirmed.completed_at is not None
    assert await exchanges.get(community.id, exchange.id) == confirmed
    ann_balance = await ledger.balance(community.id, ann.hours_account_id)
    assert (ann_balance.posted, ann_balance.pending) == (90, 0)
    with pytest.raises(errors.EntryNotPending):
        await exchanges.decline(community.id, exchange.id)


async def test_declining_releases_the_reservation(
    ledger: Ledger, exchanges: Exchanges, community: Community, ann: Member, bob: Member
) -> None:
    exchange = await exchanges.record(
        community.id, provider_id=ann.id, receiver_id=bob.id, minutes=600, description="Move"
    )
    with pytest.raises(errors.LimitExceeded):
        await exchanges.record(
            community.id, provider_id=ann.id, receiver_id=bob.id, minutes=1, description="More"
        )
    declined = await exchanges.decline(community.id, exchange.id)
    assert declined.status is ExchangeStatus.DECLINED
    assert (await ledger.balance(community.id, bob.hours_account_id)).available == 0
    with pytest.raises(errors.EntryNotPending):
        await exchanges.confirm(community.id, exchange.id)


@pytest.mark.parametrize(
    ("minutes", "description", "category"),
    [
        (0, "Help", None),
        (-5, "Help", None),
        (MINUTES_MAX + 1, "Help", None),
        (1.5, "Help", None),
        (True, "Help", None),
        (30, "", None),
        (30, "  ", None),
        (30, "x" * 1001, None),
        (30, "Help", ""),
        (30, "Help", "x" * 61),
    ],
)
async def test_bad_values_are_invalid_input(
    ledger: Ledger,
    exchanges: Exchanges,
    community: Community,
    ann: Member,
    bob: Member,
    minutes: object,
    description: str,
    category: str | None,
) -> None:
    with pytest.raises(errors.InvalidInput):
        await exchanges.record(
            community.id,
            provider_id=ann.id,
            receiver_id=bob.id,
            minutes=minutes,  # type: ignore[arg-type]
            description=description,
            category=category,
        )
    assert await ledger.list_entries(community.id) == []


async def test_members_must_differ_and_exist(
    exchanges: Exchanges, community: Community, ann: Member
) -> None:
    with pytest.raises(errors.InvalidInput):
        await exchanges.record(
            community.id, provider_id=ann.id, receiver_id=ann.id, minutes=30, description="Me"
        )
    with pytest.raises(errors.MemberNotFound):
        await exchanges.record(
            community.id, provider_id=ann.id, receiver_id=uuid.uuid4(), minutes=30, description="?"
        )


async def test_other_entries_are_no_exchanges(
    ledger: Ledger, exchanges: Exchanges, community: Community, ann: Member, bob: Member
) -> None:
    transfer = await ledger.post_entry(
        community.id,
        NewEntry(
            (PostingSpec(bob.hours_account_id, 10), PostingSpec(ann.hours_account_id, -10)),
            pending=True,
        ),
    )
    for attempt in (exchanges.get, exchanges.confirm, exchanges.decline):
        with pytest.raises(errors.EntryNotFound):
            await attempt(community.id, transfer.id)
    with pytest.raises(errors.EntryNotFound):
        await exchanges.get(community.id, uuid.uuid4())
    assert (await ledger.get_entry(community.id, transfer.id)).status is EntryStatus.PENDING
    assert await exchanges.list_exchanges(community.id) == []


async def test_listing_scans_past_other_entries(
    ledger: Ledger, exchanges: Exchanges, community: Community, ann: Member, bob: Member
) -> None:
    carol = await ledger.create_member(community.id, "Carol")
    recorded = []
    for index in range(3):
        for _ in range(150):  # more than one scan batch of other entries in between
            await ledger.post_entry(
                community.id,
                NewEntry(
                    (PostingSpec(bob.hours_account_id, 1), PostingSpec(ann.hours_account_id, -1))
                ),
            )
        provider, receiver = (ann, carol) if index == 1 else (ann, bob)
        recorded.append(
            await exchanges.record(
                community.id,
                provider_id=provider.id,
                receiver_id=receiver.id,
                minutes=10,
                description=f"Help {index}",
            )
        )
    everything = await exchanges.list_exchanges(community.id)
    assert [e.id for e in everything] == [e.id for e in recorded]
    first = await exchanges.list_exchanges(community.id, limit=1)
    after = await exchanges.list_exchanges(community.id, after=first[0].id, limit=5)
    assert [e.id for e in [*first, *after]] == [e.id for e in recorded]
    bobs = await exchanges.list_exchanges(community.id, member_id=bob.id)
    assert [e.id for e in bobs] == [recorded[0].id, recorded[2].id]
    await exchanges.confirm(community.id, recorded[2].id)
    pending = await exchanges.list_exchanges(community.id, status=ExchangeStatus.PENDING)
    assert [e.id for e in pending] == [recorded[0].id, recorded[1].id]
    with pytest.raises(errors.InvalidInput):
        await exchanges.list_exchanges(community.id, limit=0)
    with pytest.raises(errors.MemberNotFound):
        await exchanges.list_exchanges(community.id, member_id=uuid.uuid4())


async def test_recording_is_idempotent(
    ledger: Ledger, exchanges: Exchanges, community: Community, ann: Member, bob: Member
) -> None:
    key = IdempotencyKey("member:ann", "k1")
    first = await exchanges.record(
        community.id,
        provider_id=ann.id,
        receiver_id=bob.id,
        minutes=45,
        description="Soup",
        idempotency_key=key,
    )
    again = await exchanges.record(
        community.id,
        provider_id=ann.id,
        receiver_id=bob.id,
        minutes=45,
        description="Soup",
        idempotency_key=key,
    )
    assert again == first
    assert len(await ledger.list_entries(community.id)) == 1
    with pytest.raises(errors.IdempotencyConflict):
        await exchanges.record(
            community.id,
            provider_id=ann.id,
            receiver_id=bob.id,
            minutes=46,
            description="Soup",
            idempotency_key=key,
        )
