"""A second request under a key whose first is still running fails at once (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.books.batches import BatchItem, EntryBatches
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import IdempotencyKey, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.conftest import unique_slug


async def test_a_duplicate_in_flight_is_refused_then_replayed(postgresql_database_url: str) -> None:
    engine = create_engine(postgresql_database_url)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(uow)
        community = await ledger.create_community(unique_slug(), "In flight")
        ann = await ledger.create_member(community.id, "Ann")
        bob = await ledger.create_member(community.id, "Bob")
        entry = NewEntry(
            (PostingSpec(bob.hours_account_id, 30), PostingSpec(ann.hours_account_id, -30))
        )
        key = IdempotencyKey("client", "k-1")
        async with uow(write=True) as first:
            # The first request has claimed its key and not yet committed.
            await first.repo.claim_idempotency_key(community.id, key, "x", datetime.now(UTC))
            with pytest.raises(errors.IdempotencyInFlight):
                await ledger.post_entry(community.id, entry, key)
        # The first rolled back: the key is free again, and a retry writes once.
        written = await ledger.post_entry(community.id, entry, key)
        assert await ledger.post_entry(community.id, entry, key) == written
        assert len(await ledger.list_entries(community.id)) == 1
    finally:
        await engine.dispose()


async def test_a_batch_claims_its_keys_beside_one_in_flight(postgresql_database_url: str) -> None:
    """Several keys claimed at once (one statement on PostgreSQL): a key whose first request is
    still running is refused at once, a recorded one replays and a new one writes — in one batch,
    in the order given; and the key in flight, once free, writes once."""
    engine = create_engine(postgresql_database_url)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(uow)
        batches = EntryBatches(uow)
        community = await ledger.create_community(unique_slug(), "In flight")
        ann = await ledger.create_member(community.id, "Ann")
        bob = await ledger.create_member(community.id, "Bob")
        entry = NewEntry(
            (PostingSpec(bob.hours_account_id, 30), PostingSpec(ann.hours_account_id, -30))
        )
        recorded = await ledger.post_entry(community.id, entry, IdempotencyKey("client", "done"))
        items = [BatchItem(entry, key) for key in ("new-1", "busy", "done", "new-2")]
        async with uow(write=True) as first:
            busy = IdempotencyKey("client", "busy")
            await first.repo.claim_idempotency_key(community.id, busy, "x", datetime.now(UTC))
            new_1, in_flight, replay, new_2 = await batches.post_entries(
                community.id, "client", items
            )
        assert isinstance(in_flight.error, errors.IdempotencyInFlight)
        assert replay.entry == recorded
        assert new_1.entry is not None and new_2.entry is not None
        assert len({new_1.entry.id, new_2.entry.id, recorded.id}) == 3
        # The first rolled back: the key is free again, and the batch again writes it once.
        again = await batches.post_entries(community.id, "client", items)
        assert [o.entry for o in again if o is not again[1]] == [new_1.entry, recorded, new_2.entry]
        assert again[1].entry is not None and again[1].error is None
        assert len(await ledger.list_entries(community.id)) == 4
    finally:
        await engine.dispose()
