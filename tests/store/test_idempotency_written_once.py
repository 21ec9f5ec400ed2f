"""An idempotency key's row is written once, with its outcome (``ledger.store.idempotency``):
no claim row first and its outcome in an ``UPDATE`` after — on both engines, for a single keyed
write and for a group of keyed writes — and the replay still answers as before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.batches import EntryBatches, Write
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, IdempotencyKey
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.conftest import unique_slug
from tests.ledger.test_service import members, transfer


@contextmanager
def key_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The first word of every statement run on ``idempotency_keys`` inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement: str = args[2]
        if "idempotency_keys" in statement:
            seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_keyed_write_writes_its_key_once(
    engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    ann, bob = (m.hours_account_id for m in await members(ledger, community, None, None))
    key = IdempotencyKey("client", "once")
    with key_statements(engine) as seen:
        entry = await ledger.post_entry(community.id, transfer(ann, bob, 30), key)
    assert "UPDATE" not in seen
    assert seen.count("INSERT") == 1
    with key_statements(engine) as seen:
        assert await ledger.post_entry(community.id, transfer(ann, bob, 30), key) == entry
    assert seen == ["SELECT"]  # the replay reads, and writes nothing
    with pytest.raises(errors.IdempotencyConflict):
        await ledger.post_entry(community.id, transfer(ann, bob, 31), key)


async def test_a_group_writes_each_key_once(
    engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    ann, bob = (m.hours_account_id for m in await members(ledger, community, None, None))
    batches = EntryBatches(SqlUnitOfWorkFactory(engine))
    writes = [Write(transfer(ann, bob, n), IdempotencyKey("client", f"g-{n}")) for n in (1, 2, 3)]
    # A rejected write's outcome is kept under its key too.
    writes.append(Write(transfer(ann, uuid.uuid4(), 4), IdempotencyKey("client", "g-4")))
    with key_statements(engine) as seen:
        first = await batches.post_each(community.id, writes)
    assert "UPDATE" not in seen
    assert seen.count("INSERT") == 1
    again = await batches.post_each(community.id, writes)
    assert [o.entry for o in again] == [o.entry for o in first]
    assert [type(o.error) for o in again] == [type(o.error) for o in first]
    assert first[3].error is not None
    assert len(await ledger.list_entries(community.id)) == 3


async def test_an_outcome_committed_under_the_key_after_the_claim_read_is_refused(
    postgresql_database_url: str,
) -> None:
    """The one window of a claim without a row (PostgreSQL): the claim read nothing, then another
    transaction committed an outcome under the key. Storing refuses as in flight and writes
    nothing; the work rolls back, and a retry replays what was committed."""
    engine = create_engine(postgresql_database_url)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(uow)
        community = await ledger.create_community(unique_slug(), "Window")
        key = IdempotencyKey("client", "window")
        async with uow(write=True) as late:
            assert await late.repo.claim_idempotency_key(community.id, key, "f", _now()) is None
            other = await asyncpg.connect(
                make_url(postgresql_database_url).set(drivername="postgresql").render_as_string()
            )
            try:  # committed meanwhile by a transaction this claim did not see
                await other.execute(
                    "INSERT INTO idempotency_keys (community_id, scope, key, fingerprint, result,"
                    " created_at) VALUES ($1, $2, $3, 'f', 'first', now())",
                    community.id,
                    key.scope,
                    key.key,
                )
            finally:
                await other.close()
            with pytest.raises(errors.IdempotencyInFlight):
                await late.repo.store_idempotency_result(community.id, key, b"second")
        async with uow(write=True) as read:
            replay = await read.repo.claim_idempotency_key(community.id, key, "f", _now())
        assert replay is not None and replay.result == b"first"
    finally:
        await engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)
