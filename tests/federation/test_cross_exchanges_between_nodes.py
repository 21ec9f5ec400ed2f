"""Cross time-bank exchanges between two nodes (in one process, see ``nodes.py``): a member of
node A records, the member of node B answers in their own community, the hours cross by the
cross-transfer protocol between installs exactly once; the directory is read from the partner
node over the signed peer channel. Each test runs with A on SQLite and B on PostgreSQL and the
other way round."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from api.web import cross
from api.web.session import Viewer
from ledger.access.principals import CredentialKind, Principal
from ledger.federation import errors as federation_errors
from ledger.federation.exchange_messages import DIRECTORY_STEP
from ledger.federation.exchange_model import CrossExchange, CrossRecord, CrossStatus, ExchangeRole
from ledger.federation.messages import PeerForbidden, PeerMessage, sign, verify_with
from ledger.federation.model import Link, LinkStatus, TransferState
from ledger.federation.remote_directory import FRESH, STALE
from ledger.kernel import errors
from ledger.kernel.model import IdempotencyKey, Member
from tests.federation.conftest import Pair
from tests.federation.nodes import HOLD_WINDOW_S, Node, linked

PROVIDER, RECEIVER = ExchangeRole.PROVIDER, ExchangeRole.RECEIVER


async def _linked(pair: Pair, *, limit: int = 600) -> Link:
    """A and B linked; B's member chose to be listed."""
    link = await linked(pair.a, pair.b, pair.clock, limit=limit)
    assert pair.b.member is not None
    await pair.b.federation.exchanges.set_listed(pair.b.cid, pair.b.member.id, True)
    return link


def _record(pair: Pair, link: Link, minutes: int, role: ExchangeRole) -> CrossRecord:
    """A's member was ``role`` towards B's member."""
    assert pair.a.member is not None and pair.b.member is not None
    return CrossRecord(link.id, pair.a.member.id, role, pair.b.member.id, minutes, "Mended a coat")


async def _row(node: Node, exchange_id: uuid.UUID) -> CrossExchange:
    return await node.federation.exchanges.get(node.cid, exchange_id)


async def _quiet(pair: Pair) -> None:
    """Both couriers, the clock moved past each backoff, until nothing waits (at most 8)."""
    for _ in range(8):
        await pair.a.courier.deliver_due()
        await pair.b.courier.deliver_due()
        if await pair.a.waiting() == 0 and await pair.b.waiting() == 0:
            return
        pair.clock.advance(10)
    raise AssertionError("messages still waiting")


async def _confirm(pair: Pair, exchange_id: uuid.UUID, *, confirm: bool = True) -> CrossExchange:
    assert pair.b.member is not None
    return await pair.b.federation.exchanges.complete(
        pair.b.cid, exchange_id, pair.b.member.id, confirm=confirm
    )


@pytest.mark.parametrize("role", [PROVIDER, RECEIVER])
async def test_recorded_on_one_node_confirmed_on_the_other_the_hours_cross_once(
    pair: Pair, role: ExchangeRole
) -> None:
    link = await _linked(pair)
    recorded = await pair.a.federation.exchanges.record(pair.a.cid, _record(pair, link, 90, role))
    assert recorded.partner_name == "Member of Hilltop"  # from B's directory
    await _quiet(pair)
    there = await _row(pair.b, recorded.id)
    assert there.partner_name == "Member of Riverside" and there.role is role.other()
    assert pair.b.member is not None and there.awaits(pair.b.member.id)

    confirming = await _confirm(pair, recorded.id)
    assert confirming.status is CrossStatus.CONFIRMING
    await _quiet(pair)

    for side in (pair.a, pair.b):
        assert (await _row(side, recorded.id)).status is CrossStatus.CONFIRMED
        assert (await side.transfer(recorded.id)).state is TransferState.COMMITTED
    moved = 90 if role is PROVIDER else -90  # towards A's member when they helped
    assert await pair.a.hours() == (moved, 0) and await pair.b.hours() == (-moved, 0)
    assert (await pair.a.reconciliation.reconcile(pair.a.cid, link.id)).agrees
    # Answered twice: refused, nothing moves again.
    with pytest.raises(errors.EntryNotPending):
        await _confirm(pair, recorded.id)
    confirmed = "federation.exchange.confirmed"
    assert (await pair.a.event_types())[-1] == confirmed
    assert "federation.exchange.confirming" in await pair.b.event_types()
    assert (await pair.b.event_types())[-1] == confirmed


async def test_a_decline_reaches_the_recorder_node_and_nothing_moves(pair: Pair) -> None:
    link = await _linked(pair)
    recorded = await pair.a.federation.exchanges.record(
        pair.a.cid, _record(pair, link, 30, PROVIDER)
    )
    await _quiet(pair)
    with pytest.raises(federation_errors.RecorderCannotConfirm):  # whoever recorded never answers
        await pair.a.federation.exchanges.complete(
            pair.a.cid, recorded.id, recorded.member_id, confirm=True
        )
    assert (await _confirm(pair, recorded.id, confirm=False)).status is CrossStatus.DECLINED
    await _quiet(pair)

    assert (await _row(pair.a, recorded.id)).status is CrossStatus.DECLINED
    assert await pair.a.hours() == (0, 0) and await pair.b.hours() == (0, 0)
    assert await pair.a.federation.transfers.list_transfers(pair.a.cid) == []
    assert (await pair.a.event_types())[-1] == "federation.exchange.declined"


async def test_over_the_link_limit_the_payer_node_refuses_and_nothing_moves(pair: Pair) -> None:
    link = await _linked(pair, limit=60)
    # B's member received the help: B pays, and B's own check refuses at once.
    helped_b = await pair.a.federation.exchanges.record(
        pair.a.cid, _record(pair, link, 90, PROVIDER)
    )
    # A's member received it: A pays, on B's confirmation; A's refusal reaches B.
    helped_a = await pair.a.federation.exchanges.record(
        pair.a.cid, _record(pair, link, 90, RECEIVER)
    )
    await _quiet(pair)

    with pytest.raises(errors.LedgerError) as refused:
        await _confirm(pair, helped_b.id)
    assert refused.value.code == "link_limit_exceeded"
    assert (await _row(pair.b, helped_b.id)).status is CrossStatus.PENDING
    await _confirm(pair, helped_a.id)
    await _quiet(pair)

    for side in (pair.a, pair.b):
        row = await _row(side, helped_a.id)
        assert (row.status, row.reason) == (CrossStatus.REFUSED, "link_limit_exceeded")
        assert await side.hours() == (0, 0)
    assert await pair.a.federation.transfers.list_transfers(pair.a.cid) == []


async def test_a_member_not_listed_is_refused_by_their_node(pair: Pair) -> None:
    link = await _linked(pair)
    assert pair.b.member is not None
    await pair.b.federation.exchanges.set_listed(pair.b.cid, pair.b.member.id, False)
    pair.clock.advance(FRESH.total_seconds())  # past the directory A keeps
    # B answers the directory without them: refused at once, nothing written.
    with pytest.raises(errors.MemberNotFound):
        await pair.a.federation.exchanges.record(pair.a.cid, _record(pair, link, 20, PROVIDER))
    assert await pair.a.federation.exchanges.list_exchanges(pair.a.cid) == []

    # With B down A cannot tell: the record waits, and B refuses it when it arrives.
    pair.wire.down.add(pair.b.url)
    pair.clock.advance(FRESH.total_seconds() + STALE.total_seconds())
    recorded = await pair.a.federation.exchanges.record(
        pair.a.cid, _record(pair, link, 20, PROVIDER)
    )
    pair.wire.down.clear()
    await _quiet(pair)
    row = await _row(pair.a, recorded.id)
    assert (row.status, row.reason) == (CrossStatus.REFUSED, "member_not_found")
    assert await pair.b.federation.exchanges.list_exchanges(pair.b.cid) == []


async def test_recorded_while_the_partner_node_is_down_it_waits_and_arrives_later(
    pair: Pair,
) -> None:
    link = await _linked(pair)
    pair.wire.down.add(pair.b.url)
    recorded = await pair.a.federation.exchanges.record(
        pair.a.cid, _record(pair, link, 45, PROVIDER)
    )
    assert recorded.status is CrossStatus.PENDING and recorded.partner_name is None
    await pair.a.courier.deliver_due()
    assert await pair.a.waiting() == 1  # in the outbox until B answers

    pair.wire.down.clear()
    pair.clock.advance(10)
    await _quiet(pair)
    assert (await _row(pair.b, recorded.id)).status is CrossStatus.PENDING
    assert (await _row(pair.a, recorded.id)).partner_name == "Member of Hilltop"  # B told it
    await _confirm(pair, recorded.id)
    await _quiet(pair)
    assert await pair.a.hours() == (45, 0)


async def test_duplicated_and_reordered_messages_have_no_second_effect(pair: Pair) -> None:
    link = await _linked(pair)
    pair.wire.lose_answers = True  # every message is taken, its answer lost: sent again
    first = await pair.a.federation.exchanges.record(pair.a.cid, _record(pair, link, 10, PROVIDER))
    second = await pair.a.federation.exchanges.record(pair.a.cid, _record(pair, link, 20, RECEIVER))
    await pair.a.courier.deliver_due()
    pair.wire.lose_answers = False
    pair.clock.advance(10)
    await _quiet(pair)
    await _confirm(pair, first.id)
    await _confirm(pair, second.id, confirm=False)
    await _quiet(pair)

    # Every message once more, newest first (a directory query among them is only answered).
    for base, token in reversed(list(pair.wire.sent)):
        assert (await pair.wire.deliver(base, token))[0] == 200
    await _quiet(pair)

    assert (await _row(pair.a, first.id)).status is CrossStatus.CONFIRMED
    assert (await _row(pair.a, second.id)).status is CrossStatus.DECLINED
    assert await pair.a.hours() == (10, 0) and await pair.b.hours() == (-10, 0)
    assert len(await pair.b.federation.exchanges.list_exchanges(pair.b.cid)) == 2
    assert len(await pair.b.federation.transfers.list_transfers(pair.b.cid)) == 1


async def _member(node: Node, name: str, *, listed: bool) -> Member:
    member = await node.ledger.create_member(node.cid, name)
    await node.federation.exchanges.set_listed(node.cid, member.id, listed)
    return member


async def test_the_directory_shows_the_partner_node_listed_members_fresh_or_kept(
    pair: Pair,
) -> None:
    await _linked(pair)
    await _member(pair.b, "Ann Weaver", listed=True)
    await _member(pair.b, "Not Listed", listed=False)
    directory = pair.a.federation.exchanges.directory

    names = [(x.name, x.community_name) for x in await directory(pair.a.cid)]
    assert names == [("Ann Weaver", "Hilltop"), ("Member of Hilltop", "Hilltop")]
    # B's own directory shows A's listed members only: none chose to be.
    assert await pair.b.federation.exchanges.directory(pair.b.cid) == []

    # B down: the page still reads, with the listing kept, and after a while without it.
    pair.wire.down.add(pair.b.url)
    pair.clock.advance(FRESH.total_seconds())
    assert len(await directory(pair.a.cid)) == 2
    pair.clock.advance(STALE.total_seconds())
    assert await directory(pair.a.cid) == []

    # Back, a member who withdrew is gone within FRESH.
    pair.wire.down.clear()
    assert pair.b.member is not None
    await pair.b.federation.exchanges.set_listed(pair.b.cid, pair.b.member.id, False)
    pair.clock.advance(FRESH.total_seconds())
    assert [x.name for x in await directory(pair.a.cid)] == ["Ann Weaver"]


async def test_the_directory_is_refused_to_a_node_not_party_to_the_link(pair: Pair) -> None:
    link = await _linked(pair)
    query = PeerMessage(
        link.id, uuid.uuid4(), DIRECTORY_STEP, pair.clock(), pair.a.url, pair.b.url, {}
    )
    answer = verify_with(
        await pair.b.receiver.receive(sign(query, await pair.a.key())),
        (await pair.b.key()).public,
    )
    assert [x["name"] for x in answer.body["members"]] == ["Member of Hilltop"]
    # Signed by a key the link does not know (a third node's), or for a link B does not have:
    with pytest.raises(PeerForbidden):
        await pair.b.receiver.receive(sign(query, await pair.b.key()))
    elsewhere = msgspec.structs.replace(query, link_id=uuid.uuid4())
    with pytest.raises(PeerForbidden):
        await pair.b.receiver.receive(sign(elsewhere, await pair.a.key()))


async def test_the_member_page_names_the_other_member_with_their_community(pair: Pair) -> None:
    link = await _linked(pair)
    recorded = await pair.a.federation.exchanges.record(
        pair.a.cid, _record(pair, link, 50, PROVIDER)
    )
    await _quiet(pair)
    assert pair.b.community is not None and pair.b.member is not None
    viewer = Viewer(
        Principal(CredentialKind.MEMBER, str(uuid.uuid4()), pair.b.cid, frozenset()),
        pair.b.community,
        pair.b.member,
    )

    seen = await cross.view(pair.b.ledger, pair.b.federation, viewer)

    assert [(x.exchange.id, x.other_name) for x in seen.to_answer] == [
        (recorded.id, "Member of Riverside, Riverside")
    ]
    assert seen.linked and seen.listed


async def test_the_recorder_node_down_past_the_hold_window_refuses_it_on_both_sides(
    pair: Pair,
) -> None:
    link = await _linked(pair)
    recorded = await pair.a.federation.exchanges.record(
        pair.a.cid, _record(pair, link, 40, PROVIDER)
    )
    await _quiet(pair)
    pair.wire.down.add(pair.a.url)
    await _confirm(pair, recorded.id)  # B pays: reserved at B, the prepare cannot leave
    assert await pair.b.hours() == (0, -40)
    pair.clock.advance(HOLD_WINDOW_S + 60)
    await pair.b.courier.deliver_due()
    pair.wire.down.clear()
    pair.clock.advance(10)
    await _quiet(pair)  # B asks for the state; A records the tombstone

    for side in (pair.a, pair.b):
        row = await _row(side, recorded.id)
        assert (row.status, row.reason) == (CrossStatus.REFUSED, "quote_expired")
        assert await side.hours() == (0, 0)


async def test_a_retried_record_answers_the_first_answer_whatever_the_directory_says_now(
    pair: Pair,
) -> None:
    link = await _linked(pair)
    key = IdempotencyKey("member", str(uuid.uuid4()))
    record = _record(pair, link, 25, PROVIDER)
    first = await pair.a.federation.exchanges.record(pair.a.cid, record, key)
    assert pair.b.member is not None
    await pair.b.federation.exchanges.set_listed(pair.b.cid, pair.b.member.id, False)
    pair.clock.advance(FRESH.total_seconds())  # A reads B's directory again: without them

    assert await pair.a.federation.exchanges.record(pair.a.cid, record, key) == first
    with pytest.raises(errors.MemberNotFound):
        await pair.a.federation.exchanges.record(pair.a.cid, record)
    assert len(await pair.a.federation.exchanges.list_exchanges(pair.a.cid)) == 1


async def test_a_link_suspended_on_the_partner_side_shares_no_directory_and_takes_no_record(
    pair: Pair,
) -> None:
    link = await _linked(pair)
    assert len(await pair.a.federation.exchanges.directory(pair.a.cid)) == 1
    await pair.b.federation.links.set_status(pair.b.cid, link.id, LinkStatus.SUSPENDED)
    pair.clock.advance(FRESH.total_seconds() + STALE.total_seconds())

    assert await pair.a.federation.exchanges.directory(pair.a.cid) == []
    recorded = await pair.a.federation.exchanges.record(  # A cannot tell: B decides
        pair.a.cid, _record(pair, link, 15, PROVIDER)
    )
    await _quiet(pair)
    row = await _row(pair.a, recorded.id)
    assert (row.status, row.reason) == (CrossStatus.REFUSED, "link_not_active")
    assert await pair.b.federation.exchanges.list_exchanges(pair.b.cid) == []
