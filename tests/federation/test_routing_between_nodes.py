"""Routing through a hub between installs (in one process, see ``routes.py``): A on one node pays
C through the hub H on another, C on a third node or back on A's. Each hop is the direct
protocol between two nodes; the hub forwards with a shorter hold and answers upstream only with
C's word. Afterwards a transfer is posted on all three books or on none, none twice, the
journals of both links agree, and the hours moved sum to zero."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from ledger.federation import protocol, routing
from ledger.federation.messages import PeerMessage
from ledger.federation.model import Rate, TransferRole, TransferState
from ledger.federation.transfer_bodies import offer_body, offer_of
from ledger.kernel import errors
from tests.federation.conftest import RouteNodes
from tests.federation.nodes import HOLD_WINDOW_S
from tests.federation.routes import Route, hours, route

PC, PCC = ("prepared", "committed"), ("prepared", "committed", "committed")
COMMITTED, REJECTED, PREPARED = (
    TransferState.COMMITTED,
    TransferState.REJECTED,
    TransferState.PREPARED,
)


async def _states(r: Route, transfer_id: uuid.UUID) -> tuple[TransferState, ...]:
    """A's record, the hub's of both hops, and C's record of the transfer."""
    hop = routing.hop_id(transfer_id, r.hc.id)
    return (
        (await r.a.transfer(transfer_id)).state,
        (await r.h.transfer(transfer_id)).state,
        (await r.h.transfer(hop)).state,
        (await r.c.transfer(hop)).state,
    )


async def _books(r: Route) -> tuple[tuple[int, int], ...]:
    """A's member, the hub's two clearing accounts, C's member: (posted, pending) each."""
    return (
        await r.a.hours(),
        await r.h.clearing(r.ha),
        await r.h.clearing(r.hc),
        await r.c.hours(),
    )


async def _journals_agree(r: Route) -> None:
    for place, link in ((r.a, r.ah), (r.h, r.hc)):
        if link.partner.node_url is None:  # both sides on one node
            local = await place.node.federation.transfers.reconcile(place.cid, link.id)
            assert local.journal.agrees and local.books_agree, local.journal.reason
            continue
        result = await place.node.reconciliation.reconcile(place.cid, link.id)
        assert result.agrees and result.books_agree, (result.journal.reason, result.checkpoint)


async def test_a_routed_transfer_posts_on_all_three_books(hub_route: Route) -> None:
    r = hub_route
    paid = await r.pay(90, description="Bread for the fair")
    assert paid.state is PREPARED and paid.destination == r.c.community.slug
    assert await r.a.hours() == (0, -90)  # reserved until the hub's node answers

    await r.deliver_until_quiet()

    assert await _states(r, paid.id) == (COMMITTED,) * 4
    upstream = await r.h.transfer(paid.id)
    hop = await r.h.transfer(routing.hop_id(paid.id, r.hc.id))
    received = await r.c.transfer(hop.id)
    assert upstream.role is TransferRole.PAYEE and hop.role is TransferRole.PAYER
    assert hop.upstream_id == paid.id and received.member_id == r.c.member.id
    # Telescoping: the hub's hold towards C ends a hop margin before A's.
    assert hop.expires_at <= upstream.expires_at - routing.HOP_MARGIN
    assert received.description == "Bread for the fair"
    # The hub's two clearing accounts move by the same amount: it holds no difference.
    assert await _books(r) == ((-90, 0), (-90, 0), (90, 0), (90, 0))
    await _journals_agree(r)
    # Each step in the trail of the community it changed: the hub forwarded, settled its hop
    # to C and concluded A's hop.
    assert await r.a.transfer_events() == [f"federation.transfer.{s}" for s in PC]
    assert await r.h.transfer_events() == [f"federation.transfer.{s}" for s in PCC]
    assert await r.c.transfer_events() == ["federation.transfer.committed"]


@pytest.mark.parametrize(
    "route_urls", [("sqlite", "postgresql", None)], ids=["A-sqlite,H-pg"], indirect=True
)
async def test_only_a_routed_offer_carries_the_destination_and_the_payee_minimum(
    hub_route: Route,
) -> None:
    r = hub_route
    routed = protocol.offer_of(await r.pay(30, min_received=25))
    direct = dataclasses.replace(routed, destination=None, final_min_received=1)
    body = offer_body(routed)
    assert (body["destination"], body["final_min_received"]) == (r.c.community.slug, 25)
    # A direct offer's body is what it was before routing between installs: same hash.
    assert not {"destination", "final_min_received"} & offer_body(direct).keys()
    message = PeerMessage(r.ah.id, routed.transfer_id, "prepare", r.clock(), "a", "h", body)
    assert offer_of(message) == routed


@pytest.mark.parametrize(
    "route_urls", [("postgresql", "sqlite", None)], ids=["A-pg,H-sqlite,C-on-H"], indirect=True
)
async def test_a_route_to_a_payee_on_the_hub_node_is_answered_at_once(
    route_nodes: RouteNodes,
) -> None:
    n = route_nodes
    r = await route(n.a, n.h, n.h, n.clock, n.wire)
    paid = await r.pay(40)
    await n.a.courier.deliver_due()  # one message: the hub's node decides C's hop in its step

    assert await _states(r, paid.id) == (COMMITTED,) * 4
    assert await _books(r) == ((-40, 0), (-40, 0), (40, 0), (40, 0))
    # Left: the seq of the hub's movement, from whichever side numbers the link's journal.
    await r.deliver_until_quiet()
    assert await r.waiting() == 0
    await _journals_agree(r)


@pytest.mark.parametrize(
    "route_urls", [("sqlite", "postgresql", None)], ids=["A-and-H-sqlite,C-pg"], indirect=True
)
async def test_a_route_from_a_hub_on_the_payer_node_to_another_node(
    route_nodes: RouteNodes,
) -> None:
    n = route_nodes
    r = await route(n.a, n.a, n.h, n.clock, n.wire)
    assert await n.a.remote.is_remote(r.a.cid, r.ah.id, r.c.community.slug)
    assert not await n.a.remote.is_remote(r.a.cid, r.ah.id)
    paid, refused = await r.pay(50), await r.pay(20, payee_member_id=uuid.uuid4())
    assert paid.state is refused.state is PREPARED
    assert await r.h.clearing(r.hc) == (0, 70)  # the hub's hold towards C

    await n.a.courier.deliver_due()  # the hub's two hops to C; C's answers settle A too

    assert await _states(r, paid.id) == (COMMITTED,) * 4
    assert await _states(r, refused.id) == (REJECTED,) * 4
    assert (await r.a.transfer(refused.id)).reason == "member_not_found"
    assert await _books(r) == ((-50, 0), (-50, 0), (50, 0), (50, 0))
    await r.deliver_until_quiet()  # the seq of each movement, from the side that numbers them
    await _journals_agree(r)


async def test_a_refusal_at_the_payee_voids_the_hub_and_the_payer(hub_route: Route) -> None:
    r = hub_route
    refused = await r.pay(30, payee_member_id=uuid.uuid4())  # no such member at C
    await r.deliver_until_quiet()

    assert await _states(r, refused.id) == (REJECTED,) * 4
    hop = routing.hop_id(refused.id, r.hc.id)
    for record in (await r.a.transfer(refused.id), await r.h.transfer(hop)):
        assert record.reason == "member_not_found"
    assert await _books(r) == ((0, 0),) * 4
    assert await r.waiting() == 0


async def test_limits_and_the_payee_minimum_hold_on_each_hop(route_nodes: RouteNodes) -> None:
    n = route_nodes
    # A may owe the hub 200; the hub may owe C 80 (its units), at 3/2 C's units per hub unit.
    r = await route(n.a, n.h, n.c, n.clock, n.wire, ah_limit=200, hc_terms=hours(80, Rate(3, 2)))
    with pytest.raises(errors.LedgerError) as over:
        await r.pay(201)  # over A's own limit towards the hub: refused at A, nothing written
    assert over.value.code == "link_limit_exceeded"
    assert await r.a.transfers() == [] and await r.waiting() == 0

    below = await r.pay(60, min_received=91)  # 60 → 60 → 90 at C: below the payee's minimum
    over_hub = await r.pay(90)  # the hub would owe C 90 of its units, over its 80
    await r.deliver_until_quiet()
    for refused, code in ((below, "below_minimum_received"), (over_hub, "link_limit_exceeded")):
        payer, upstream = await r.a.transfer(refused.id), await r.h.transfer(refused.id)
        assert payer.state is upstream.state is REJECTED
        assert payer.reason == upstream.reason == code
    assert await r.c.transfers() == []  # refused at the hub: nothing reached C

    paid = await r.pay(60, min_received=90)
    await r.deliver_until_quiet()
    assert await _states(r, paid.id) == (COMMITTED,) * 4
    assert await _books(r) == ((-60, 0), (-60, 0), (60, 0), (90, 0))  # converted at the hop
    await _journals_agree(r)


async def test_repeated_and_reordered_messages_take_effect_once(hub_route: Route) -> None:
    r = hub_route
    r.wire.lose_answers = True
    first, second = await r.pay(10), await r.pay(20)
    for node in r.nodes:  # every message taken, every answer lost
        await node.courier.deliver_due()
    assert len(r.wire.sent) == 4  # A's two prepares to the hub, the hub's two to C
    for base, token in [*reversed(r.wire.sent), *r.wire.sent]:  # reordered, each again
        assert (await r.wire.deliver(base, token))[0] == 200
    r.wire.lose_answers = False
    r.clock.advance(5)
    await r.deliver_until_quiet()

    for transfer in (first, second):
        assert await _states(r, transfer.id) == (COMMITTED,) * 4
    assert len(await r.h.transfers()) == 4 and len(await r.c.transfers()) == 2
    assert await _books(r) == ((-30, 0), (-30, 0), (30, 0), (30, 0))
    await _journals_agree(r)


async def test_a_hop_down_past_its_hold_ends_voided_everywhere(hub_route: Route) -> None:
    r = hub_route
    r.wire.down.add(r.c.node.url)
    stuck = await r.pay(45)
    await r.deliver_until_quiet(rounds=2)  # the hub forwarded; C's node does not answer
    r.clock.advance(HOLD_WINDOW_S + 60)  # past both holds
    await r.deliver_until_quiet(rounds=2)
    # Nobody voids on its own clock: A and the hub keep their holds while C is silent.
    hop = routing.hop_id(stuck.id, r.hc.id)
    for record in (await r.a.transfer(stuck.id), *[await r.h.transfer(i) for i in (stuck.id, hop)]):
        assert record.state is PREPARED
    assert await r.c.transfers() == []
    assert await r.a.hours() == (0, -45) and await r.h.clearing(r.hc) == (0, 45)

    r.wire.down.clear()
    await r.deliver_until_quiet()
    assert await _states(r, stuck.id) == (REJECTED,) * 4
    assert (await r.c.transfer(hop)).reason == "quote_expired"
    assert (await r.a.transfer(stuck.id)).reason == "quote_expired"
    assert await _books(r) == ((0, 0),) * 4

    # The hub's node down past A's hold: it records a tombstone and nothing reaches C.
    r.wire.down.add(r.h.node.url)
    lost = await r.pay(15)
    await r.deliver_until_quiet(rounds=2)
    r.clock.advance(HOLD_WINDOW_S + 60)
    r.wire.down.clear()
    await r.deliver_until_quiet()
    assert (await r.a.transfer(lost.id)).state is REJECTED
    assert (await r.h.transfer(lost.id)).reason == "quote_expired"
    assert len(await r.c.transfers()) == 1
    assert await _books(r) == ((0, 0),) * 4


@pytest.mark.parametrize(
    "route_urls",
    [("postgresql", "sqlite", "second_sqlite")],
    ids=["A-pg,H-sqlite,C-sqlite"],
    indirect=True,
)
async def test_a_routed_prepare_delayed_past_its_expiry_never_goes_on(hub_route: Route) -> None:
    r = hub_route
    r.wire.capture_only = True
    late = await r.pay(25)
    await r.a.node.courier.deliver_due()  # held on the wire
    (base, token), *_ = r.wire.sent
    r.wire.capture_only = False
    r.clock.advance(HOLD_WINDOW_S + 60)
    await r.deliver_until_quiet()  # A asks for the state: the hub records its tombstone
    assert (await r.h.transfer(late.id)).reason == "quote_expired"

    assert (await r.wire.deliver(base, token))[0] == 200  # the prepare, at last
    await r.deliver_until_quiet()
    assert (await r.a.transfer(late.id)).state is REJECTED
    assert [t.id for t in await r.h.transfers()] == [late.id]  # nothing forwarded
    assert await r.c.transfers() == []
    assert await _books(r) == ((0, 0),) * 4
