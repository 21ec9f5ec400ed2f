"""Cross transfers under concurrency on PostgreSQL: many clients paying over one link at once
never take it past its limit, and both sides' books and journals still agree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from ledger.federation.model import Link, LinkStatus, Partner
from ledger.kernel import errors
from ledger.kernel.model import HOURS, new_id
from ledger.store import create_engine
from ledger.store.federation import SqlFederationStore
from tests.ledger.federation_world import World, hours_terms, make_side, make_world

pytestmark = pytest.mark.postgres_only

CLIENTS = 24
LIMIT = 500
AMOUNT = 45


@pytest.fixture
async def world(postgresql_database_url: str) -> AsyncIterator[World]:
    engine = create_engine(postgresql_database_url)
    try:
        yield await make_world(engine)
    finally:
        await engine.dispose()


async def test_concurrent_clients_never_pass_the_link_limit(world: World) -> None:
    link = await world.link(we_owe=LIMIT, they_owe=LIMIT)
    members = [await world.ledger.create_member(world.a.cid, f"Payer {i}") for i in range(CLIENTS)]
    transfers = world.federation.transfers
    calls = [
        transfers.create(world.a.cid, world.request(link.id, AMOUNT, payer_member_id=m.id))
        for m in members
    ]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(
        isinstance(o, errors.LedgerError) and o.code == "link_limit_exceeded" for o in refused
    ), refused
    assert len(outcomes) - len(refused) == LIMIT // AMOUNT
    result = await transfers.reconcile(world.a.cid, link.id)
    assert result.books[HOURS] == (LIMIT // AMOUNT) * AMOUNT <= LIMIT
    assert result.journal.agrees and result.books_agree
    assert result.journal.agrees_up_to == LIMIT // AMOUNT


async def test_concurrent_transfers_both_ways_keep_the_books_agreed(world: World) -> None:
    link = await world.link(we_owe=LIMIT, they_owe=LIMIT)
    transfers = world.federation.transfers
    calls = []
    for index in range(CLIENTS):
        a_pays = index % 2 == 0
        payer, payee = (world.a, world.b) if a_pays else (world.b, world.a)
        request = world.request(
            link.id, AMOUNT, payer_member_id=payer.member.id, payee_member_id=payee.member.id
        )
        calls.append(transfers.create(payer.cid, request))
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    ours = await transfers.reconcile(world.a.cid, link.id)
    theirs = await transfers.reconcile(world.b.cid, link.id)
    assert ours.journal.agrees and ours.books_agree and theirs.books_agree
    assert ours.books[HOURS] == theirs.books[HOURS] == 0
    assert ours.journal.agrees_up_to == CLIENTS


async def test_routed_and_direct_transfers_at_once_never_deadlock(
    postgresql_database_url: str,
) -> None:
    engine = create_engine(postgresql_database_url)
    try:
        world = await make_world(engine)
        c = await make_side(world.ledger, world.governance, "valley", "Valley")
        ab = await world.link(we_owe=LIMIT * 10, they_owe=LIMIT * 10)
        links = world.federation.links
        bc = await links.propose(
            world.b.cid, c.community.slug, hours_terms(we_owe=LIMIT * 10, they_owe=LIMIT * 10)
        )
        await links.consent(world.b.cid, bc.id, 1, world.b.steward.id)
        await links.accept(c.cid, bc.id, c.steward.id)
        ca = await links.get(c.cid, bc.id)
        transfers, calls = world.federation.transfers, []
        for index in range(CLIENTS):
            kind = index % 4
            if kind == 0:  # A → B → C
                request = world.request(
                    ab.id, AMOUNT, payee_member_id=c.member.id, destination=c.community.slug
                )
                calls.append(transfers.create(world.a.cid, request))
            elif kind == 1:  # C → B → A
                request = world.request(
                    ca.id,
                    AMOUNT,
                    payer_member_id=c.member.id,
                    payee_member_id=world.a.member.id,
                    destination=world.a.community.slug,
                )
                calls.append(transfers.create(c.cid, request))
            elif kind == 2:  # B → A
                request = world.request(
                    ab.id,
                    AMOUNT,
                    payer_member_id=world.b.member.id,
                    payee_member_id=world.a.member.id,
                )
                calls.append(transfers.create(world.b.cid, request))
            else:  # B → C
                request = world.request(
                    bc.id, AMOUNT, payer_member_id=world.b.member.id, payee_member_id=c.member.id
                )
                calls.append(transfers.create(world.b.cid, request))
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        for cid, link_id in ((world.a.cid, ab.id), (world.b.cid, bc.id)):
            result = await transfers.reconcile(cid, link_id)
            assert result.journal.agrees and result.books_agree
            assert result.journal.agrees_up_to == CLIENTS * 3 // 4  # three kinds in four
    finally:
        await engine.dispose()


@pytest.mark.parametrize("both_ways", [False, True], ids=["same-side", "opposite-sides"])
async def test_concurrent_proposals_of_one_link_make_one(world: World, both_ways: bool) -> None:
    """The open-link check alone raced: both proposals read "none yet" and both inserted. The
    unique index on open links decides; the loser gets ``link_exists``, nothing written. A
    closed link first, so that the two open clearing accounts of their own and do not collide
    on the plain account code (which would serialise them by accident)."""
    links = world.federation.links
    closed = await links.propose(world.a.cid, world.b.community.slug, hours_terms())
    await links.set_status(world.a.cid, closed.id, LinkStatus.CLOSED)
    second = (world.b.cid, world.a.community.slug) if both_ways else (world.a.cid, None)
    calls = [
        links.propose(world.a.cid, world.b.community.slug, hours_terms()),
        links.propose(second[0], second[1] or world.b.community.slug, hours_terms()),
    ]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert [getattr(o, "code", o) for o in refused] == ["link_exists"]
    for side in (world.a, world.b):
        listed = await links.list_links(side.cid)
        assert sorted(link.status.value for link in listed) == ["closed", "proposed"]


async def test_an_open_link_inserted_by_two_transactions_at_once_is_stored_once(
    world: World,
) -> None:
    """The store itself, below the service's locks: two transactions insert an open link with
    the same partner, the first not yet committed when the second inserts. The second waits
    on the unique index and gets ``link_exists`` (with a check alone it saw nothing)."""
    partner = Partner(world.b.community.slug, "Hilltop", community_id=world.b.cid)
    now = world.clock()

    def side() -> Link:
        return Link(world.a.cid, new_id(), partner, True, LinkStatus.PROPOSED, False, now, now, ())

    async with world.engine.connect() as first, world.engine.connect() as second:
        await first.begin()
        await second.begin()
        await SqlFederationStore(first).insert_link(side())
        late = asyncio.create_task(SqlFederationStore(second).insert_link(side()))
        await _inserted_or_waiting(world, late)
        await first.commit()
        with pytest.raises(errors.LedgerError) as refused:
            await late
        assert refused.value.code == "link_exists"


async def _inserted_or_waiting(world: World, task: asyncio.Task[None]) -> None:
    """Until ``task`` has inserted, or its backend waits on a lock (the first's index entry)."""
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with world.engine.connect() as watcher:
        while True:
            if task.done() or (await watcher.execute(waiting)).scalar_one():
                return
            await asyncio.sleep(0.01)
