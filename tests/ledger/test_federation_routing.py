"""Routing through a hub on one install: A → B → C as two hops over two links, posted on all
three books at once or on none, the downstream hold expiring before the upstream one, and the
hub never left holding the difference."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.federation import protocol, routing
from ledger.federation.model import (
    SKEW_MARGIN,
    Link,
    Outcome,
    Rate,
    TransferRole,
    TransferState,
)
from ledger.kernel import errors
from ledger.kernel.model import HOURS
from ledger.store.tables import federation_journal, federation_transfers
from tests.ledger.federation_world import Side, World, hours_terms, make_side, make_world


class Hub:
    def __init__(self, world: World, c: Side, ab: Link, bc: Link) -> None:
        self.world, self.c, self.ab, self.bc = world, c, ab, bc

    def request(self, amount: int, **changes: object) -> object:
        fields: dict[str, object] = {
            "payee_member_id": self.c.member.id,
            "destination": self.c.community.slug,
        } | changes
        return self.world.request(self.ab.id, amount, **fields)


async def _hub(engine: AsyncEngine, **bc_terms: object) -> Hub:
    world = await make_world(engine)
    c = await make_side(world.ledger, world.governance, "valley", "Valley")
    ab = await world.link()
    links = world.federation.links
    bc = await links.propose(world.b.cid, c.community.slug, hours_terms(**bc_terms))  # type: ignore[arg-type]
    await links.consent(world.b.cid, bc.id, 1, world.b.steward.id)
    await links.accept(c.cid, bc.id, c.steward.id)
    return Hub(world, c, ab, await links.get(world.b.cid, bc.id))


@pytest.fixture
async def hub(engine: AsyncEngine) -> Hub:
    return await _hub(engine)


def _clearing(link: Link, commodity: str = HOURS) -> object:
    terms = link.versions[0].terms_for(commodity)
    assert terms is not None
    return terms.clearing_account_id


async def _count(hub: Hub, table: sa.Table) -> int:
    ids = [hub.world.a.cid, hub.world.b.cid, hub.c.cid]
    async with hub.world.engine.connect() as conn:
        query = sa.select(sa.func.count()).where(table.c.community_id.in_(ids))
        return int((await conn.execute(query)).scalar_one())


async def test_a_routed_transfer_posts_on_all_three_books(hub: Hub) -> None:
    world, transfers = hub.world, hub.world.federation.transfers
    paid = await transfers.create(world.a.cid, hub.request(120))  # type: ignore[arg-type]
    assert paid.state is TransferState.COMMITTED and paid.destination == hub.c.community.slug
    upstream = await transfers.get(world.b.cid, paid.id)
    downstream = await transfers.get(world.b.cid, routing.hop_id(paid.id, hub.bc.id))
    received = await transfers.get(hub.c.cid, downstream.id)
    assert upstream.role is TransferRole.PAYEE and upstream.state is TransferState.COMMITTED
    assert downstream.role is TransferRole.PAYER and downstream.state is TransferState.COMMITTED
    assert received.state is TransferState.COMMITTED and received.member_id == hub.c.member.id
    assert downstream.expires_at <= upstream.expires_at - routing.HOP_MARGIN
    c_hours = (await world.ledger.get_member(hub.c.cid, hub.c.member.id)).hours_account_id
    assert await world.balance(hub.c, c_hours) == 120
    ba = await world.federation.links.get(world.b.cid, hub.ab.id)
    assert await world.balance(world.b, _clearing(ba)) == -120  # type: ignore[arg-type]
    assert await world.balance(world.b, _clearing(hub.bc)) == 120  # type: ignore[arg-type]
    for cid, link_id in ((world.a.cid, hub.ab.id), (world.b.cid, hub.bc.id)):
        result = await transfers.reconcile(cid, link_id)
        assert result.journal.agrees and result.journal.agrees_up_to == 1
        assert result.books_agree


async def test_each_hop_converts_at_its_own_rate_and_the_payee_minimum_holds(
    engine: AsyncEngine,
) -> None:
    hub = await _hub(engine, rate=Rate(3, 2))
    world, transfers = hub.world, hub.world.federation.transfers
    eur = {"commodity": "EUR"}
    with pytest.raises(errors.LedgerError) as refused:
        await transfers.create(world.a.cid, hub.request(100, min_received=226, **eur))  # type: ignore[arg-type]
    assert refused.value.code == "below_minimum_received"
    assert await _count(hub, federation_transfers) == 0
    paid = await transfers.create(world.a.cid, hub.request(100, min_received=225, **eur))  # type: ignore[arg-type]
    assert paid.quote is not None and paid.quote.min_received == 225
    assert await world.balance(hub.c, hub.c.eur.id) == 225  # 100 → 150 → 225


@pytest.mark.parametrize(
    ("bc_terms", "changes", "code"),
    [
        ({"we_owe": 50}, {}, "link_limit_exceeded"),  # the hub's limit towards C
        ({}, {"destination": "nowhere"}, "partner_not_found"),
        ({}, {"payee_member_id": None}, "member_not_found"),
    ],
)
async def test_a_refusal_anywhere_on_the_route_writes_nothing(
    engine: AsyncEngine, bc_terms: dict[str, object], changes: dict[str, object], code: str
) -> None:
    hub = await _hub(engine, **bc_terms)
    world = hub.world
    if "payee_member_id" in changes:
        changes = {"payee_member_id": world.b.member.id}  # not a member of C
    with pytest.raises(errors.LedgerError) as refused:
        await world.federation.transfers.create(world.a.cid, hub.request(60, **changes))  # type: ignore[arg-type]
    assert refused.value.code == code
    assert await _count(hub, federation_transfers) == 0
    assert await _count(hub, federation_journal) == 0


async def test_the_downstream_hold_ends_first_so_the_hub_answers_upstream(hub: Hub) -> None:
    world = hub.world
    now = world.clock()
    async with world.federation.transactions.step() as tx:
        payer = await protocol.prepare(tx, world.a.cid, hub.request(30), now)  # type: ignore[arg-type]
        offer = protocol.offer_of(payer)
        upstream = await routing.forward(tx, world.b.cid, offer, now)
        assert upstream.state is TransferState.PREPARED
        downstream = await routing.downstream_of(tx, world.b.cid, upstream)
        # From here C refuses by its own clock, while the hub still has a skew margin, at
        # least, before its upstream deadline: it always learns C's word in time.
        late = downstream.expires_at - SKEW_MARGIN
        assert late + SKEW_MARGIN <= upstream.expires_at - SKEW_MARGIN
        down_offer = routing.offer_down(downstream, offer)
        decided = await protocol.decide(tx, hub.c.cid, down_offer, late)
        assert decided.reason == "quote_expired"
        outcome = Outcome(downstream.id, decided.state, decided.reason, decided.detail)
        await protocol.settle(tx, world.b.cid, outcome, late)
        answer = Outcome(upstream.id, decided.state, decided.reason, decided.detail)
        concluded = await routing.conclude(tx, world.b.cid, upstream.id, answer, late)
        assert concluded.state is TransferState.REJECTED
        assert await routing.forward(tx, world.b.cid, offer, late) == concluded
        settled = await protocol.settle(
            tx, world.a.cid, Outcome(payer.id, concluded.state, concluded.reason), late
        )
        assert settled.state is TransferState.REJECTED
    ba = await world.federation.links.get(world.b.cid, hub.ab.id)
    for side, account in ((world.b, _clearing(ba)), (world.b, _clearing(hub.bc))):
        assert await world.balance(side, account) == 0  # type: ignore[arg-type]
    clearing_b = await world.ledger.get_account(world.b.cid, _clearing(hub.bc))  # type: ignore[arg-type]
    assert clearing_b.balance.pending == 0 and clearing_b.balance.ceiling == 0


async def test_the_hub_forwards_only_with_a_hop_margin_of_hold_for_the_next_hop(hub: Hub) -> None:
    """The hop to C ends ``HOP_MARGIN`` before A's and must itself last that long: with less than
    twice the margin of A's hold left, the hub refuses (and reserves nothing)."""
    world = hub.world
    now = world.clock()
    async with world.federation.transactions.step() as tx:
        requests = [hub.request(10) for _ in range(2)]
        offers = [
            protocol.offer_of(await protocol.prepare(tx, world.a.cid, request, now))  # type: ignore[arg-type]
            for request in requests
        ]
        just = offers[0].expires_at - 2 * routing.HOP_MARGIN
        forwarded = await routing.forward(tx, world.b.cid, offers[0], just)
        assert forwarded.state is TransferState.PREPARED
        hop = await routing.downstream_of(tx, world.b.cid, forwarded)
        assert hop.expires_at == offers[0].expires_at - routing.HOP_MARGIN
        too_late = just + timedelta(seconds=1)
        refused = await routing.forward(tx, world.b.cid, offers[1], too_late)
        assert refused.state is TransferState.REJECTED and refused.reason == "quote_expired"
        assert refused.entry_id is None
