"""Cross transfers under concurrency on PostgreSQL: many clients paying over one link at once
never take it past its limit, and both sides' books and journals still agree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ledger.kernel import errors
from ledger.kernel.model import HOURS
from ledger.store import create_engine
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
