"""A link between two nodes after the invitation (in one process, see ``nodes.py``; each test runs
with the payer's node on SQLite and on PostgreSQL): new terms proposed on one node reach the
other by signed message, each side adopts them by its own governance, the stricter terms hold on
both until both adopted; suspending, resuming and closing reach the partner, refuse new
transfers on both nodes, and let the protocol end the transfers already prepared. Repeated,
reordered and delayed link messages take effect once; a changed replay and a message for a link
the sender is not party to are refused."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace

import msgspec
import pytest

from ledger.federation.link_peer import STATUS_STEP, VERSION_STEP
from ledger.federation.messages import PeerForbidden, PeerMessage, sign, verify_with
from ledger.federation.model import CommodityTerms, Link, LinkStatus, Rate, TransferState
from ledger.federation.peering import PeerReplayConflict
from ledger.federation.terms import in_force
from ledger.governance.model import Role
from ledger.governance.service import Governance
from ledger.governance.transactions import GovernanceTransactions
from ledger.kernel import errors
from ledger.kernel.model import HOURS, Member
from ledger.store.governance import SqlGovernanceStore
from tests.federation.conftest import Pair
from tests.federation.nodes import Clock, Node, linked, request


async def _steward(node: Node, clock: Clock) -> Member:
    """A current steward of the node's community (the community's rule: consensus of one)."""
    governance = Governance.over(
        GovernanceTransactions(node.units, SqlGovernanceStore.of, clock),
        node.ledger,
    )
    steward = await node.ledger.create_member(node.cid, "Steward")
    await governance.roles.assign(node.cid, steward.id, Role.STEWARD)
    return steward


async def _world(pair: Pair, limit: int = 600) -> tuple[Link, Member, Member]:
    link = await linked(pair.a, pair.b, pair.clock, limit=limit)
    return link, await _steward(pair.a, pair.clock), await _steward(pair.b, pair.clock)


async def _deliver(pair: Pair, *nodes: Node) -> None:
    """Courier passes on each node, the clock moved past each backoff, until nothing waits."""
    for _ in range(4):
        for node in nodes:
            await node.courier.deliver_due()
        if all([await node.waiting() == 0 for node in nodes]):
            return
        pair.clock.advance(10)
    raise AssertionError("messages still waiting")


async def _views(pair: Pair, link_id: uuid.UUID) -> tuple[Link, Link]:
    return (
        await pair.a.federation.links.get(pair.a.cid, link_id),
        await pair.b.federation.links.get(pair.b.cid, link_id),
    )


def _assert_same_agreement(ours: Link, theirs: Link) -> None:
    """Both nodes hold the same versions with the same terms, each from its own side."""
    assert [v.version for v in ours.versions] == [v.version for v in theirs.versions]
    for mine, other in zip(ours.versions, theirs.versions, strict=True):
        assert mine.hold_window_s == other.hold_window_s
        assert mine.proposed_here is not other.proposed_here
        assert (mine.adopted_here_at is None) == (other.adopted_there_at is None)
        assert (mine.adopted_there_at is None) == (other.adopted_here_at is None)
        assert [t.mirror() for t in mine.commodities] == [
            replace(t, clearing_account_id=None) for t in other.commodities
        ]


def _hours(limit_we_owe: int, limit_they_owe: int) -> list[CommodityTerms]:
    return [CommodityTerms(HOURS, HOURS, Rate(1, 1), limit_we_owe, limit_they_owe)]


async def _refused(
    code: str, node: Node, payer: Node, payee: Node, link: Link, amount: int
) -> None:
    with pytest.raises(errors.LedgerError) as refused:
        await node.remote.create(node.cid, request(payer, payee, link, amount), None)
    assert refused.value.code == code


async def test_new_terms_reach_the_partner_hold_stricter_at_once_and_need_both_adoptions(
    pair: Pair,
) -> None:
    link, a_steward, b_steward = await _world(pair)
    links_a, links_b = pair.a.federation.links, pair.b.federation.links
    proposed = await links_a.propose_version(pair.a.cid, link.id, _hours(600, 100), 300)
    # The inviting side's versions are odd, the invited side's even: never the same number.
    assert [v.version for v in proposed.versions] == [1, 3]
    # Held on the proposing node at once, before the partner heard of it:
    assert in_force(proposed, HOURS).terms.limit_they_owe == 100
    await _deliver(pair, pair.a)
    ours, theirs = await _views(pair, link.id)
    _assert_same_agreement(ours, theirs)
    # The stricter terms hold on both nodes: B may owe A at most 100 minutes, checked at B
    # when B's member pays, and the version in force is still 1 on both.
    assert in_force(theirs, HOURS).terms.limit_we_owe == 100
    assert in_force(ours, HOURS).version == in_force(theirs, HOURS).version == 1
    await _refused("link_limit_exceeded", pair.b, pair.b, pair.a, link, 150)

    await links_a.consent(pair.a.cid, link.id, 3, a_steward.id)
    await _deliver(pair, pair.a)
    ours, theirs = await _views(pair, link.id)
    _assert_same_agreement(ours, theirs)
    assert in_force(ours, HOURS).version == in_force(theirs, HOURS).version == 1
    with pytest.raises(errors.LedgerError) as not_steward:
        await links_b.consent(pair.b.cid, link.id, 3, pair.b.member.id)  # type: ignore[union-attr]
    assert not_steward.value.code == "not_a_steward"

    await links_b.consent(pair.b.cid, link.id, 3, b_steward.id)
    await _deliver(pair, pair.b)
    ours, theirs = await _views(pair, link.id)
    _assert_same_agreement(ours, theirs)
    assert in_force(ours, HOURS).version == in_force(theirs, HOURS).version == 3
    assert in_force(ours, HOURS).terms.limit_we_owe == 600
    assert "federation.link.version_proposed" in await pair.b.event_types()
    assert (await pair.a.event_types()).count("federation.link.version_adopted") == 2
    # Every link message delivered again, newest first: answered from the inboxes, no effect.
    events = (await pair.a.event_types(), await pair.b.event_types())
    for base, token in reversed(pair.wire.sent):
        assert (await pair.wire.deliver(base, token))[0] == 200
    assert (await pair.a.event_types(), await pair.b.event_types()) == events
    assert await _views(pair, link.id) == (ours, theirs)
    # Within the new terms a transfer B → A passes both nodes:
    created = await pair.b.remote.create(pair.b.cid, request(pair.b, pair.a, link, 90), None)
    await _deliver(pair, pair.b)
    assert (await pair.a.transfer(created.id)).state is TransferState.COMMITTED


async def test_crossing_proposals_and_an_early_adoption_end_alike_on_both_nodes(
    pair: Pair,
) -> None:
    link, a_steward, b_steward = await _world(pair)
    links_a, links_b = pair.a.federation.links, pair.b.federation.links
    pair.wire.capture_only = True
    await links_a.propose_version(pair.a.cid, link.id, _hours(500, 500), 300)
    await links_b.propose_version(pair.b.cid, link.id, _hours(400, 450), 600)
    await links_a.consent(pair.a.cid, link.id, 3, a_steward.id)
    for node in (pair.a, pair.b):
        await node.courier.deliver_due()
    by_step = {verify_with(t, (await pair.a.key()).public).step: (base, t)
               for base, t in pair.wire.sent if base == pair.b.url}  # fmt: skip
    # A's adoption of version 3 reaches B before its proposal: refused for now, asked again.
    base, adoption = by_step["link.adopted"]
    status, _ = await pair.wire.deliver(base, adoption)
    assert status == 404
    pair.wire.capture_only = False
    pair.clock.advance(10)
    await _deliver(pair, pair.a, pair.b)

    ours, theirs = await _views(pair, link.id)
    assert [v.version for v in ours.versions] == [1, 2, 3]
    _assert_same_agreement(ours, theirs)
    # Both pending versions hold at once: the lowest of each limit.
    for view in (ours, theirs):
        assert in_force(view, HOURS).version == 1
    assert (
        in_force(ours, HOURS).terms.limit_we_owe,
        in_force(ours, HOURS).terms.limit_they_owe,
    ) == (
        450,
        400,
    )
    await links_b.consent(pair.b.cid, link.id, 3, b_steward.id)
    await _deliver(pair, pair.b)
    ours, theirs = await _views(pair, link.id)
    _assert_same_agreement(ours, theirs)
    assert in_force(ours, HOURS).version == in_force(theirs, HOURS).version == 3
    assert in_force(theirs, HOURS).hold_window_s == 300


async def test_a_suspension_reaches_the_partner_and_the_transfers_in_flight_end_by_the_protocol(
    pair: Pair,
) -> None:
    link, _, _ = await _world(pair)
    # Decided by B before the suspension, its answer lost: it finishes, committed on both.
    pair.wire.lose_answers = True
    decided = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 20), None)
    await pair.a.courier.deliver_due()
    pair.wire.lose_answers = False
    # Prepared at A, not yet offered to B when B suspends: B refuses it, A voids.
    pair.wire.down.add(pair.b.url)
    undecided = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 30), None)
    await pair.a.courier.deliver_due()
    pair.wire.down.clear()

    suspended = await pair.b.federation.links.set_status(pair.b.cid, link.id, LinkStatus.SUSPENDED)
    assert suspended.status is LinkStatus.SUSPENDED and suspended.suspended_here
    await _deliver(pair, pair.b)
    ours, theirs = await _views(pair, link.id)
    assert ours.status is LinkStatus.SUSPENDED and not ours.suspended_here
    await _refused("link_not_active", pair.a, pair.a, pair.b, link, 5)
    await _refused("link_not_active", pair.b, pair.b, pair.a, link, 5)
    pair.clock.advance(10)
    await _deliver(pair, pair.a)
    for side in (pair.a, pair.b):
        assert (await side.transfer(decided.id)).state is TransferState.COMMITTED
        refused = await side.transfer(undecided.id)
        assert refused.state is TransferState.REJECTED and refused.reason == "link_not_active"
    assert await pair.a.hours() == (-20, 0) and await pair.b.hours() == (20, 0)

    # Only the side that suspended resumes; its resumption reaches the partner.
    with pytest.raises(errors.LedgerError) as not_ours:
        await pair.a.federation.links.set_status(pair.a.cid, link.id, LinkStatus.ACTIVE)
    assert not_ours.value.code == "link_status_conflict"
    await pair.b.federation.links.set_status(pair.b.cid, link.id, LinkStatus.ACTIVE)
    await _deliver(pair, pair.b)
    ours, theirs = await _views(pair, link.id)
    assert ours.status is theirs.status is LinkStatus.ACTIVE
    link_events = [t for t in await pair.a.event_types() if t.startswith("federation.link.")]
    assert link_events[-2:] == ["federation.link.suspended", "federation.link.resumed"]
    again = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 10), None)
    await _deliver(pair, pair.a)
    assert (await pair.b.transfer(again.id)).state is TransferState.COMMITTED


async def test_both_sides_suspending_at_once_both_resume_and_a_close_is_final_on_both(
    pair: Pair,
) -> None:
    link, _, _ = await _world(pair)
    for node in (pair.a, pair.b):
        await node.federation.links.set_status(node.cid, link.id, LinkStatus.SUSPENDED)
    await _deliver(pair, pair.a, pair.b)
    await pair.a.federation.links.set_status(pair.a.cid, link.id, LinkStatus.ACTIVE)
    await _deliver(pair, pair.a)
    ours, theirs = await _views(pair, link.id)
    assert ours.status is theirs.status is LinkStatus.SUSPENDED  # B still suspends it
    assert theirs.suspended_here and not ours.suspended_here

    await pair.b.federation.links.set_status(pair.b.cid, link.id, LinkStatus.ACTIVE)
    await _deliver(pair, pair.b)
    ours, theirs = await _views(pair, link.id)
    assert ours.status is theirs.status is LinkStatus.ACTIVE

    # A transfer prepared at A just before B closes reaches B after the close: refused, voided.
    pair.wire.down.add(pair.b.url)
    late = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 25), None)
    await pair.a.courier.deliver_due()
    pair.wire.down.clear()
    await pair.b.federation.links.set_status(pair.b.cid, link.id, LinkStatus.CLOSED)
    await _deliver(pair, pair.b)
    pair.clock.advance(10)
    await _deliver(pair, pair.a)
    for side in (pair.a, pair.b):
        assert (await side.transfer(late.id)).state is TransferState.REJECTED
    assert await pair.a.hours() == (0, 0) and await pair.b.hours() == (0, 0)
    ours, theirs = await _views(pair, link.id)
    assert ours.status is theirs.status is LinkStatus.CLOSED
    await _refused("link_not_active", pair.a, pair.a, pair.b, link, 5)
    for node in (pair.a, pair.b):
        for status in (LinkStatus.ACTIVE, LinkStatus.SUSPENDED):
            with pytest.raises(errors.LedgerError) as closed:
                await node.federation.links.set_status(node.cid, link.id, status)
            assert closed.value.code == "link_status_conflict"
        with pytest.raises(errors.LedgerError) as no_terms:
            await node.federation.links.propose_version(node.cid, link.id, _hours(1, 1), 300)
        assert no_terms.value.code == "link_status_conflict"
    assert "federation.link.closed" in await pair.a.event_types()


async def test_link_messages_repeated_reordered_and_delayed_take_effect_once(pair: Pair) -> None:
    link, _, _ = await _world(pair)
    links_a = pair.a.federation.links
    pair.wire.capture_only = True
    for status in (
        LinkStatus.SUSPENDED,
        LinkStatus.ACTIVE,
        LinkStatus.SUSPENDED,
        LinkStatus.ACTIVE,
    ):
        await links_a.set_status(pair.a.cid, link.id, status)
    await pair.a.courier.deliver_due()
    key = (await pair.a.key()).public
    captured = sorted(
        ((verify_with(token, key), base, token) for base, token in pair.wire.sent),
        key=lambda sent: sent[0].body["seq"],
    )
    assert [m.body["stance"] for m, _, _ in captured] == ["suspended", "open"] * 2
    assert {m.step for m, _, _ in captured} == {STATUS_STEP}
    # The newest first, then the older ones, each twice, the oldest long after:
    for message, base, token in [*reversed(captured), *captured]:
        assert (await pair.wire.deliver(base, token))[0] == 200, message
    ours, theirs = await _views(pair, link.id)
    assert ours.status is theirs.status is LinkStatus.ACTIVE
    assert "federation.link.suspended" not in await pair.b.event_types()
    pair.wire.capture_only = False
    pair.clock.advance(10)
    await _deliver(pair, pair.a)
    assert (await _views(pair, link.id))[1].status is LinkStatus.ACTIVE

    first, base, _ = captured[0]
    receive = pair.b.receiver.receive
    # The same status change with another body:
    changed = msgspec.structs.replace(
        first, sent_at=pair.clock(), body={**first.body, "stance": "closed"}
    )
    with pytest.raises(PeerReplayConflict):
        await receive(sign(changed, await pair.a.key()))
    # A link message naming a link the sender is not party to, or signed by another node:
    elsewhere = msgspec.structs.replace(first, sent_at=pair.clock(), link_id=uuid.uuid4())
    with pytest.raises(PeerForbidden):
        await receive(sign(elsewhere, await pair.a.key()))
    proposal = PeerMessage(
        link.id, uuid.uuid4(), VERSION_STEP, pair.clock(), pair.a.url, pair.b.url, {}
    )
    with pytest.raises(PeerForbidden):
        await receive(sign(proposal, await pair.b.key()))
    assert (await _views(pair, link.id))[1].status is LinkStatus.ACTIVE


async def test_a_proposal_the_partner_cannot_take_is_refused_once_and_stays_on_its_side(
    pair: Pair,
) -> None:
    link, a_steward, _ = await _world(pair)
    await pair.a.ledger.add_commodity(pair.a.cid, "EUR", "Euro", 2)  # B has no euros
    terms = [*_hours(300, 300), CommodityTerms("EUR", "EUR", Rate(1, 1), 1000, 1000)]
    await pair.a.federation.links.propose_version(pair.a.cid, link.id, terms, 300)
    await pair.a.federation.links.consent(pair.a.cid, link.id, 3, a_steward.id)
    await _deliver(pair, pair.a)  # both answered for good: nothing is sent again

    ours, theirs = await _views(pair, link.id)
    assert [v.version for v in ours.versions] == [1, 3]
    assert [v.version for v in theirs.versions] == [1]
    assert in_force(ours, HOURS).terms.limit_we_owe == 300  # the stricter holds where it is
    async with pair.b.units(write=False) as unit:
        codes = [a.code for a in await unit.repo.list_accounts(pair.b.cid)]
    assert not any(code.endswith(":EUR") for code in codes)
    async with pair.a.units(write=False) as unit:
        trail = await unit.repo.list_audit(pair.a.cid, after_seq=0, limit=500)
    assert "partner_refused_link_version" in [record.operation for record in trail]


@pytest.mark.parametrize("seed", [4, 6, 9])  # each undone by a stale message without seq
async def test_random_suspensions_from_both_sides_delivered_in_any_order_end_alike(
    pair: Pair, seed: int
) -> None:
    """Both sides suspend and resume at random while their messages are held, then the messages
    arrive shuffled and duplicated: both nodes end as the model of the two stances says."""
    link, _, _ = await _world(pair)
    rng = random.Random(seed)
    stances = {pair.a.url: False, pair.b.url: False}  # whether each side suspends
    pair.wire.capture_only = True
    for _ in range(8):
        node = rng.choice((pair.a, pair.b))
        suspend = rng.random() < 0.5
        if suspend or stances[node.url]:  # a side lifts only its own suspension
            status = LinkStatus.SUSPENDED if suspend else LinkStatus.ACTIVE
            await node.federation.links.set_status(node.cid, link.id, status)
            stances[node.url] = suspend
        await node.courier.deliver_due()
    held = list(pair.wire.sent) * 2
    rng.shuffle(held)
    for base, token in held:
        assert (await pair.wire.deliver(base, token))[0] == 200
    pair.wire.capture_only = False
    await _deliver(pair, pair.a, pair.b)

    ours, theirs = await _views(pair, link.id)
    expected = LinkStatus.SUSPENDED if any(stances.values()) else LinkStatus.ACTIVE
    assert ours.status is theirs.status is expected
    assert (ours.suspended_here, theirs.suspended_here) == (
        stances[pair.a.url],
        stances[pair.b.url],
    )
