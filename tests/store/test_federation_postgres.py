"""Cross transfers under concurrency on PostgreSQL: many clients paying over one link at once
never take it past its limit, and both sides' books and journals still agree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ledger.kernel import errors
from ledger.kernel.model import HOURS
from ledger.store import create_engine
from tests.ledger.federation_world import World, make_world

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
