"""A second request under a key whose first is still running fails at once (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
