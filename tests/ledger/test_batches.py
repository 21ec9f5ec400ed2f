"""Batches of entries: each item atomic and idempotent on its own key, limits across items,
one audit record per effective item — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.trail import AuditTrail
from ledger.books.batches import ITEMS_MAX, BatchItem, EntryBatches, ItemOutcome
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, IdempotencyKey, Member, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory
from tests.ledger.test_service import members, transfer

SCOPE = "api_key:test"


@pytest.fixture
def batches(engine: AsyncEngine) -> EntryBatches:
    return EntryBatches(SqlUnitOfWorkFactory(engine))


def item(key: str, debit: Member, credit: Member, minutes: int) -> BatchItem:
    return BatchItem(
        transfer(debit.hours_account_id, credit.hours_account_id, minutes, kind="transfer"), key
    )


def codes(outcomes: list[ItemOutcome]) -> list[str]:
    return ["ok" if o.error is None else o.error.code for o in outcomes]


async def balances(ledger: Ledger, community: Community, people: list[Member]) -> list[int]:
    return [(await ledger.balance(community.id, m.hours_account_id)).posted for m in people]


async def test_good_and_bad_items_each_stand_alone(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    ann, bob, cat = await members(ledger, community, -100, -100, -100)
    stranger = uuid.uuid4()
    outcomes = await batches.post_entries(
        community.id,
        SCOPE,
        [
            item("a", ann, bob, 30),
            BatchItem(transfer(stranger, bob.hours_account_id, 5), "b"),  # no such account
            item("c", bob, cat, 500),  # past bob's limit
            BatchItem(NewEntry((PostingSpec(ann.hours_account_id, 5),)), "d"),  # one posting
            item("e", cat, ann, 20),
        ],
    )
    assert codes(outcomes) == [
        "ok",
        "account_not_found",
        "limit_exceeded",
        "too_few_postings",
        "ok",
    ]
    assert await balances(ledger, community, [ann, bob, cat]) == [-10, 30, -20]
    entries = await ledger.list_entries(community.id)
    assert [e.id for e in entries] == [outcomes[0].entry.id, outcomes[4].entry.id]  # type: ignore[union-attr]
    assert entries[0] == outcomes[0].entry


async def test_replaying_a_batch_answers_the_same_outcomes_and_writes_nothing(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    ann, bob = await members(ledger, community, -50, -50)
    batch = [item("1", ann, bob, 30), item("2", ann, bob, 30), item("3", bob, ann, 10)]
    first = await batches.post_entries(community.id, SCOPE, batch)
    assert codes(first) == ["ok", "limit_exceeded", "ok"]
    before = await ledger.list_entries(community.id)
    # Bob pays Ann back: item 2 would pass now, but its recorded rejection stands.
    await ledger.post_entry(community.id, transfer(bob.hours_account_id, ann.hours_account_id, 20))
    again = await batches.post_entries(community.id, SCOPE, batch)
    assert [(o.entry, None if o.error is None else o.error.code) for o in again] == [
        (o.entry, None if o.error is None else o.error.code) for o in first
    ]
    assert len(await ledger.list_entries(community.id)) == len(before) + 1


async def test_limits_hold_across_the_items_of_one_batch(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    ann, bob = await members(ledger, community, -100, None)
    batch = [item(f"k{i}", ann, bob, 30) for i in range(5)]
    outcomes = await batches.post_entries(community.id, SCOPE, batch)
    assert codes(outcomes) == ["ok", "ok", "ok", "limit_exceeded", "limit_exceeded"]
    assert await balances(ledger, community, [ann, bob]) == [-90, 90]


async def test_a_key_means_the_same_in_a_batch_and_a_single_write(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    single = transfer(ann.hours_account_id, bob.hours_account_id, 7, kind="transfer")
    entry = await ledger.post_entry(community.id, single, IdempotencyKey(SCOPE, "same"))
    outcomes = await batches.post_entries(
        community.id, SCOPE, [BatchItem(single, "same"), item("same", ann, bob, 8)]
    )
    assert outcomes[0].entry == entry
    assert codes(outcomes) == ["ok", "idempotency_conflict"]
    batched = await batches.post_entries(community.id, SCOPE, [item("batched", bob, ann, 3)])
    replayed = await ledger.post_entry(
        community.id,
        transfer(bob.hours_account_id, ann.hours_account_id, 3, kind="transfer"),
        IdempotencyKey(SCOPE, "batched"),
    )
    assert replayed == batched[0].entry
    assert await balances(ledger, community, [ann, bob]) == [-4, 4]


async def test_a_key_repeated_in_a_batch_follows_its_first_item(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    outcomes = await batches.post_entries(
        community.id,
        SCOPE,
        [item("k", ann, bob, 5), item("k", ann, bob, 5), item("k", ann, bob, 6)],
    )
    assert codes(outcomes) == ["ok", "ok", "idempotency_conflict"]
    assert outcomes[0].entry == outcomes[1].entry
    assert await balances(ledger, community, [ann, bob]) == [-5, 5]


async def test_an_item_refused_before_the_database_claims_nothing(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    zero = BatchItem(transfer(ann.hours_account_id, bob.hours_account_id, 0), "k")
    assert codes(await batches.post_entries(community.id, SCOPE, [zero])) == ["invalid_amount"]
    assert codes(await batches.post_entries(community.id, SCOPE, [item("k", ann, bob, 1)])) == [
        "ok"
    ]


async def test_every_effective_item_gets_its_audit_record(
    ledger: Ledger, batches: EntryBatches, community: Community, engine: AsyncEngine
) -> None:
    ann, bob = await members(ledger, community, -10, None)
    trail = AuditTrail(SqlUnitOfWorkFactory(engine))
    before = len(await trail.records(community.id, after_seq=0, limit=1000))
    batch = [item("x1", ann, bob, 5), item("x2", ann, bob, 50), item("x3", ann, bob, 5)]
    outcomes = await batches.post_entries(community.id, SCOPE, batch)
    await batches.post_entries(community.id, SCOPE, batch)  # a replay records nothing
    records = (await trail.records(community.id, after_seq=0, limit=1000))[before:]
    assert [(r.operation, r.idempotency_key) for r in records] == [
        ("post_entry", "x1"),
        ("post_entry", "x3"),
    ]
    assert [r.result_ids for r in records] == [
        (str(outcomes[0].entry.id),),  # type: ignore[union-attr]
        (str(outcomes[2].entry.id),),  # type: ignore[union-attr]
    ]
    assert (await trail.verify(community.id)).broken is None


async def test_a_batch_has_one_to_the_maximum_items(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    with pytest.raises(errors.InvalidInput):
        await batches.post_entries(community.id, SCOPE, [])
    too_many = [item(f"k{i}", ann, bob, 1) for i in range(ITEMS_MAX + 1)]
    with pytest.raises(errors.InvalidInput):
        await batches.post_entries(community.id, SCOPE, too_many)
    assert await ledger.list_entries(community.id) == []


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
async def test_concurrent_batches_and_single_writes_keep_every_limit(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    """Writers on overlapping accounts, in random orders: no deadlock, no lost update, every
    balance within its limit and equal to what the accepted items add up to."""
    people = await members(ledger, community, *([-60] * 6))
    rng = random.Random(11)

    def random_batch(tag: str) -> list[BatchItem]:
        batch = []
        for i in range(40):
            debit, credit = rng.sample(people, 2)
            batch.append(item(f"{tag}-{i}", debit, credit, rng.randint(1, 25)))
        return batch

    async def single(tag: str) -> list[ItemOutcome]:
        debit, credit = rng.sample(people, 2)
        spec = transfer(debit.hours_account_id, credit.hours_account_id, rng.randint(1, 25))
        try:
            return [ItemOutcome(entry=await ledger.post_entry(community.id, spec))]
        except errors.LimitExceeded as exc:
            return [ItemOutcome(error=exc)]

    jobs = [batches.post_entries(community.id, SCOPE, random_batch(f"b{n}")) for n in range(6)]
    jobs += [single(f"s{n}") for n in range(20)]
    results = await asyncio.gather(*jobs)
    accepted = [o.entry for outcomes in results for o in outcomes if o.entry is not None]
    refused = [o.error.code for outcomes in results for o in outcomes if o.error is not None]
    assert accepted and refused and set(refused) == {"limit_exceeded"}
    expected = {m.hours_account_id: 0 for m in people}
    for entry in accepted:
        for posting in entry.postings:
            expected[posting.account_id] -= posting.amount  # credit-normal
    for member in people:
        balance = (await ledger.balance(community.id, member.hours_account_id)).posted
        assert balance == expected[member.hours_account_id] >= -60


async def test_a_key_repeated_in_a_batch_answers_by_the_outcome_recorded_before_it(
    ledger: Ledger, batches: EntryBatches, community: Community
) -> None:
    ann, bob = await members(ledger, community, -100, -100)
    first = await batches.post_entries(community.id, SCOPE, [item("k", ann, bob, 10)])
    # The key again, twice in one batch: another request (a conflict), then the recorded one
    # (a replay of the first batch's entry, as a single retry would answer).
    again = await batches.post_entries(
        community.id, SCOPE, [item("k", bob, ann, 10), item("k", ann, bob, 10)]
    )
    assert codes(again) == ["idempotency_conflict", "ok"]
    assert again[1].entry == first[0].entry
    assert await balances(ledger, community, [ann, bob]) == [-10, 10]
