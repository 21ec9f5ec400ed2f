"""The audit trail: one hash-chained record per write that took effect, with its actor, request,
key and resulting ids; the chain is verified, and any tampering is found at its first broken
link."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit import chain as audit
from ledger.audit.chain import AuditContext, AuditEvent, AuditRecord, ChainVerifier, acting
from ledger.audit.trail import AuditTrail, Verification
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, IdempotencyKey, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory

TREASURER = audit.Actor(kind="api_key", credential_id="k-1", member_id=None, role="treasurer")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _chain(length: int) -> list[AuditRecord]:
    community_id = uuid.uuid4()
    records: list[AuditRecord] = []
    for seq in range(1, length + 1):
        event = AuditEvent(f"op{seq}", TREASURER, f"req-{seq}", None, (f"id-{seq}",), NOW)
        prev = records[-1].hash if records else audit.GENESIS_HASH
        records.append(audit.chain(community_id, seq, prev, event))
    return records


def _verify(records: list[AuditRecord], head: tuple[int, str] | None) -> audit.BrokenLink | None:
    verifier = ChainVerifier()
    for record in records:
        verifier.feed(record)
    return verifier.finish(head)


def test_an_intact_chain_verifies_and_every_kind_of_tampering_is_found() -> None:
    records = _chain(4)
    head = (4, records[-1].hash)
    assert _verify(records, head) is None
    assert _verify([], None) is None
    assert records[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))

    altered = [*records[:2], replace(records[2], operation="forged"), records[3]]
    assert _verify(altered, head) == audit.BrokenLink(3, "its content no longer matches its hash")
    removed = [records[0], *records[2:]]
    assert _verify(removed, head) == audit.BrokenLink(2, "record 2 is missing")
    # Recomputing the hash of a changed record still breaks the next record's link.
    resealed = replace(records[1], role="admin", hash="")
    resealed = replace(resealed, hash=audit.record_hash(resealed))
    relinked = [records[0], resealed, *records[2:]]
    assert _verify(relinked, head) == audit.BrokenLink(
        3, "its prev_hash is not the previous record's hash"
    )
    broken = _verify(records[:3], head)  # the newest record cut off
    assert broken is not None and broken.seq == 4


@pytest.fixture
def trail(engine: AsyncEngine) -> AuditTrail:
    return AuditTrail(SqlUnitOfWorkFactory(engine))


def _transfer(debit: uuid.UUID, credit: uuid.UUID, amount: int) -> NewEntry:
    return NewEntry((PostingSpec(debit, amount), PostingSpec(credit, -amount)))


async def test_each_write_that_took_effect_is_recorded_once(
    ledger: Ledger, community: Community, trail: AuditTrail
) -> None:
    context = AuditContext(TREASURER, request_id="req-42")
    with acting(context):
        ann = await ledger.create_member(community.id, "Ann", hours_min=-60)
        bob = await ledger.create_member(community.id, "Bob", hours_min=-60)
        key = IdempotencyKey("api_key:k-1", "pay-1")
        entry = await ledger.post_entry(
            community.id, _transfer(bob.hours_account_id, ann.hours_account_id, 30), key
        )
        replayed = await ledger.post_entry(
            community.id, _transfer(bob.hours_account_id, ann.hours_account_id, 30), key
        )
        assert replayed == entry
        with pytest.raises(errors.LimitExceeded):
            await ledger.post_entry(
                community.id, _transfer(bob.hours_account_id, ann.hours_account_id, 600)
            )
    # Outside any request: the operator (a command-line tool).
    reversal = await ledger.reverse(community.id, entry.id)

    created, *records = await trail.records(community.id)
    assert (created.seq, created.operation, created.actor_kind) == (
        1,
        "create_community",
        "operator",
    )
    assert created.result_ids == (str(community.id),)
    assert [r.seq for r in records] == [2, 3, 4, 5]
    assert [r.operation for r in records] == [
        "create_member",
        "create_member",
        "post_entry",
        "reverse",
    ]
    assert records[0].result_ids == (str(ann.id), str(ann.hours_account_id))
    assert records[2].result_ids == (str(entry.id),)
    assert records[2].idempotency_key == "pay-1" and records[0].idempotency_key is None
    assert {(r.actor_kind, r.actor_id, r.role, r.request_id) for r in records[:3]} == {
        ("api_key", "k-1", "treasurer", "req-42")
    }
    assert (records[3].actor_kind, records[3].request_id) == ("operator", None)
    assert records[3].result_ids == (str(reversal.id),)
    assert await trail.verify(community.id) == Verification(5, None)
    # Paging continues after a record's number.
    assert [r.seq for r in await trail.records(community.id, after_seq=2, limit=1)] == [3]


async def test_concurrent_writers_number_the_chain_without_gaps(
    ledger: Ledger, community: Community, trail: AuditTrail
) -> None:
    members = [await ledger.create_member(community.id, f"M{n}") for n in range(8)]
    pairs = list(zip(members, members[1:] + members[:1], strict=True))
    await asyncio.gather(
        *(
            ledger.post_entry(community.id, _transfer(a.hours_account_id, b.hours_account_id, 5))
            for a, b in pairs * 3
        )
    )
    records = await trail.records(community.id, limit=1000)
    # The community's creation, 8 members, 24 transfers.
    assert [r.seq for r in records] == list(range(1, 1 + 8 + 24 + 1))
    assert await trail.verify(community.id) == Verification(33, None)


async def test_communities_have_chains_of_their_own(
    ledger: Ledger, community: Community, trail: AuditTrail
) -> None:
    other = await ledger.create_community(f"o-{uuid.uuid4().hex[:10]}", "Other")
    await ledger.create_member(community.id, "Ann")
    await ledger.create_member(other.id, "Zoe")
    for found in (community, other):
        records = await trail.records(found.id)
        assert [(r.seq, r.operation) for r in records] == [
            (1, "create_community"),
            (2, "create_member"),
        ]
        assert records[0].prev_hash == audit.GENESIS_HASH
