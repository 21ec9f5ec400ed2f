"""``append_audit_many``: a batch's audit records chained under one lock of the head are the
records one ``append_audit`` each would have written — same numbers, hashes and event positions
— on SQLite and PostgreSQL; and the chain stays whole when batches and single writes race."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli.main import main
from ledger.audit import chain as audit
from ledger.audit import outbox
from ledger.audit.trail import AuditTrail
from ledger.books.batches import BatchItem, EntryBatches, ItemOutcome
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, Member
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.tables import audit_heads, audit_log, events
from ledger.store.uow import SqlUnitOfWork
from tests.conftest import unique_slug
from tests.ledger.test_service import members, transfer

AT = datetime(2026, 11, 24, 12, 30, 15, 123456, tzinfo=UTC)
ANN = audit.Actor(kind="member", credential_id=None, member_id=uuid.uuid4(), role="member")
KEY = audit.Actor(kind="api_key", credential_id="k-1", member_id=None, role="treasurer")


def new_event(n: int) -> outbox.NewEvent:
    return outbox.NewEvent(
        type="entry.posted",
        resource_kind="entry",
        resource_id=f"r{n}",
        data={"n": n, "nested": {"list": [1, "two", None]}},
        member_ids=(ANN.member_id,) if n % 2 else (),  # type: ignore[arg-type]
        account_ids=(uuid.uuid4(),),
    )


def audit_events(count: int) -> list[audit.AuditEvent]:
    """Records with none, one or several events each, of two actors."""
    return [
        audit.AuditEvent(
            operation="post_entry" if i % 3 else "open_account",
            actor=ANN if i % 2 else KEY,
            request_id=None if i % 4 == 3 else f"req-{i}",
            idempotency_key=f"key-{i}" if i % 2 else None,
            result_ids=(str(uuid.uuid4()),),
            recorded_at=AT,
            events=tuple(new_event(10 * i + n) for n in range(i % 3)),
        )
        for i in range(count)
    ]


async def written(uow: SqlUnitOfWork, community_id: uuid.UUID) -> dict[str, Any]:
    """Every audit row, event row and the head of the community, as the transaction sees them."""
    conn = uow.connection

    async def rows(table: sa.Table, *order: sa.Column[Any]) -> list[dict[str, Any]]:
        result = await conn.execute(
            sa.select(table).where(table.c.community_id == community_id).order_by(*order)
        )
        return [dict(row._mapping) for row in result]

    return {
        "audit": await rows(audit_log, audit_log.c.seq),
        "events": await rows(events, events.c.seq, events.c.n),
        "head": await rows(audit_heads),
    }


async def append(
    engine: AsyncEngine,
    community_id: uuid.UUID,
    chained: list[audit.AuditEvent],
    found: list[outbox.NewEvent],
    *,
    many: bool,
    commit: bool,
) -> dict[str, Any]:
    """Appends ``chained`` one by one or as one batch after the write's steps found ``found``
    (a monitor's crossings), and returns what that wrote."""
    async with SqlUnitOfWorkFactory(engine)(write=True) as uow:
        uow.repo._more_events.setdefault(community_id, []).extend(found)
        if many:
            await uow.repo.append_audit_many(community_id, chained)
        else:
            for event in chained:
                await uow.repo.append_audit(community_id, event)
        state = await written(uow, community_id)
        if commit:
            await uow.commit()
    return state


@pytest.mark.parametrize("head", ["absent", "present"])
@pytest.mark.parametrize("count", [1, 2, 7])
async def test_many_appends_write_what_one_append_each_writes(
    engine: AsyncEngine, ledger: Ledger, head: str, count: int
) -> None:
    if head == "present":  # creating a community through the service audits it: a head exists
        community_id = (await ledger.create_community(unique_slug(), "Chained")).id
    else:
        community_id = uuid.uuid4()
        async with SqlUnitOfWorkFactory(engine)(write=True) as uow:
            await uow.repo.insert_community(Community(community_id, unique_slug(), "Bare", AT))
            await uow.commit()
    chained, found = audit_events(count), [new_event(900), new_event(901)]
    # The same appends from the same head both ways: the first is rolled back.
    one_by_one = await append(engine, community_id, chained, found, many=False, commit=False)
    at_once = await append(engine, community_id, chained, found, many=True, commit=True)

    assert at_once == one_by_one
    first = 1 if head == "absent" else 2
    assert [row["seq"] for row in at_once["audit"]][-count:] == list(range(first, first + count))
    assert at_once["head"][0]["seq"] == first + count - 1
    # Each record's events at its seq, numbered from 0; a monitor's follow the first record's.
    expected = [
        (first + i, n, event.resource_id)
        for i, record in enumerate(chained)
        for n, event in enumerate((*record.events, *(found if i == 0 else ())))
    ]
    ours = [(row["seq"], row["n"], row["resource_id"]) for row in at_once["events"]]
    assert ours == expected  # creating a community tells no one: these are all its events
    assert (await AuditTrail(SqlUnitOfWorkFactory(engine)).verify(community_id)).broken is None


async def test_nothing_to_append_takes_no_lock_and_writes_nothing(
    engine: AsyncEngine, community: Community
) -> None:
    async with SqlUnitOfWorkFactory(engine)(write=True) as uow:
        before = await written(uow, community.id)
        await uow.repo.append_audit_many(community.id, [])
        assert await written(uow, community.id) == before


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
async def test_batches_racing_single_writes_leave_a_chain_audit_verify_accepts(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches and single writes of one community at once: every accepted entry has exactly one
    record, the records are numbered without gaps, each entry's event sits at its record's seq,
    and ``commons-ledger audit verify`` finds the chain intact."""
    people = await members(ledger, community, *([-200] * 5))
    batches = EntryBatches(SqlUnitOfWorkFactory(engine))
    rng = random.Random(7)

    def pair() -> tuple[Member, Member]:
        debit, credit = rng.sample(people, 2)
        return debit, credit

    async def batch(tag: str) -> list[ItemOutcome]:
        items = []
        for i in range(30):
            debit, credit = pair()
            spec = transfer(debit.hours_account_id, credit.hours_account_id, rng.randint(1, 9))
            items.append(BatchItem(spec, f"{tag}-{i}"))
        return await batches.post_entries(community.id, "api_key:test", items)

    async def single() -> list[ItemOutcome]:
        debit, credit = pair()
        spec = transfer(debit.hours_account_id, credit.hours_account_id, rng.randint(1, 9))
        try:
            return [ItemOutcome(entry=await ledger.post_entry(community.id, spec))]
        except errors.LimitExceeded as exc:
            return [ItemOutcome(error=exc)]

    jobs = [batch(f"b{n}") for n in range(8)] + [single() for _ in range(24)]
    rng.shuffle(jobs)
    results = await asyncio.gather(*jobs)
    accepted = {str(o.entry.id) for outcome in results for o in outcome if o.entry is not None}
    assert len(accepted) > 8 * 15

    records = await AuditTrail(SqlUnitOfWorkFactory(engine)).records(
        community.id, after_seq=0, limit=1000
    )
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    posted = [r for r in records if r.operation == "post_entry"]
    assert sorted(r.result_ids[0] for r in posted) == sorted(accepted)
    async with SqlUnitOfWorkFactory(engine)(write=False) as uow:
        feed = (
            await uow.connection.execute(
                sa.select(events.c.seq, events.c.resource_id).where(
                    events.c.community_id == community.id, events.c.type == "entry.posted"
                )
            )
        ).all()
    assert sorted((seq, rid) for seq, rid in feed) == sorted(
        (r.seq, r.result_ids[0]) for r in posted
    )

    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", database_url)
    verdict = await asyncio.to_thread(main, ["audit", "verify", "--community", community.slug])
    assert verdict == 0
