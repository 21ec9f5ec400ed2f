"""Cross transfers between two nodes (in one process, see ``nodes.py``): the protocol's
guarantees under lost, repeated, reordered and delayed messages and a peer down past the hold
window. Afterwards every transfer is posted on both sides or voided on both, none twice, the
journals agree, and the hours moved sum to zero across the two nodes."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import msgspec
import pytest

from ledger.federation.messages import PeerForbidden, PeerUnauthenticated, sign, verify_with
from ledger.federation.model import TransferState
from ledger.federation.peering import PeerReplayConflict
from tests.federation.conftest import Pair
from tests.federation.nodes import HOLD_WINDOW_S, Node, linked, request


async def _deliver_until_quiet(pair: Pair, node: Node | None = None) -> None:
    """Courier passes, the clock moved past each backoff, until nothing waits (at most 6)."""
    for _ in range(6):
        await (node or pair.a).courier.deliver_due()
        if await (node or pair.a).waiting() == 0:
            return
        pair.clock.advance(10)


async def _settled_alike(pair: Pair, link_id: object, moved: int) -> None:
    """Both sides' books and journals agree, and ``moved`` minutes went from A's member to B's
    (once A, the link's proposer, has told B the seq of each movement: ``sequence``)."""
    await _deliver_until_quiet(pair)
    a_posted, a_pending = await pair.a.hours()
    b_posted, b_pending = await pair.b.hours()
    assert (a_posted, a_pending, b_posted, b_pending) == (-moved, 0, moved, 0)
    assert await pair.a.waiting() == 0
    result = await pair.a.reconciliation.reconcile(pair.a.cid, link_id)  # type: ignore[arg-type]
    assert result.agrees, (result.journal.reason, result.checkpoint)
    assert result.books_agree


async def test_a_transfer_posts_on_both_nodes_and_the_journals_agree(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    created = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 90), None)
    assert created.state is TransferState.PREPARED
    assert await pair.a.hours() == (0, -90)  # reserved until the payee's node decides

    await pair.a.courier.deliver_due()

    assert (await pair.a.transfer(created.id)).state is TransferState.COMMITTED
    assert (await pair.b.transfer(created.id)).state is TransferState.COMMITTED
    await _settled_alike(pair, link.id, 90)
    assert await pair.a.event_types() == [
        "federation.link.activated",
        "federation.transfer.prepared",
        "federation.transfer.committed",
    ]
    assert await pair.b.event_types() == [
        "federation.link.activated",
        "federation.transfer.committed",
    ]


async def test_a_refusal_by_the_payee_node_voids_the_payer_side(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock, limit=60)
    created = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 50), None)
    # B's own side of the link is tighter than what A checked: B's limit_they_owe is 60 too,
    # so a second transfer passes A's check only after the first settled; here the payee's
    # member is unknown to B instead: a refusal only B can make.
    await pair.a.courier.deliver_due()
    second = request(pair.a, pair.b, link, 5)
    second = dataclasses.replace(second, payee_member_id=pair.a.cid)
    refused = await pair.a.remote.create(pair.a.cid, second, None)
    await pair.a.courier.deliver_due()

    assert (await pair.a.transfer(created.id)).state is TransferState.COMMITTED
    payer_side, payee_side = await pair.a.transfer(refused.id), await pair.b.transfer(refused.id)
    assert payer_side.state is payee_side.state is TransferState.REJECTED
    assert payer_side.reason == payee_side.reason == "member_not_found"
    await _settled_alike(pair, link.id, 50)


async def test_a_lost_answer_is_asked_again_and_the_repeat_has_no_second_effect(
    pair: Pair,
) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    created = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 30), None)
    pair.wire.lose_answers = True
    await pair.a.courier.deliver_due()  # B decides; A never hears it
    assert (await pair.b.transfer(created.id)).state is TransferState.COMMITTED
    assert (await pair.a.transfer(created.id)).state is TransferState.PREPARED

    pair.wire.lose_answers = False
    pair.clock.advance(5)  # past the backoff
    await pair.a.courier.deliver_due()
    # The same prepare, duplicated and delayed, once more after the settlement:
    (base, token), *_ = pair.wire.sent
    status, _ = await pair.wire.deliver(base, token)
    assert status == 200

    assert len(pair.wire.sent) == 2
    await _settled_alike(pair, link.id, 30)


async def test_reordered_and_duplicated_prepares_each_take_effect_once(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    pair.wire.lose_answers = True
    first = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 10), None)
    await pair.a.courier.deliver_due()
    second = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 20), None)
    await pair.a.courier.deliver_due()
    (base, one), (_, two) = pair.wire.sent
    for token in (two, one, two, one):  # reordered, each twice
        assert (await pair.wire.deliver(base, token))[0] == 200
    pair.wire.lose_answers = False
    pair.clock.advance(5)
    await _deliver_until_quiet(pair)

    for transfer_id in (first.id, second.id):
        assert (await pair.a.transfer(transfer_id)).state is TransferState.COMMITTED
        assert (await pair.b.transfer(transfer_id)).state is TransferState.COMMITTED
    await _settled_alike(pair, link.id, 30)


async def test_the_payee_node_down_past_the_hold_window_ends_voided_on_both_sides(
    pair: Pair,
) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    pair.wire.down.add(pair.b.url)
    created = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 45), None)
    await pair.a.courier.deliver_due()  # refused: B is down
    pair.clock.advance(HOLD_WINDOW_S + 60)
    await pair.a.courier.deliver_due()  # still down: nothing decided
    # The payer side never voids on its own clock: the hold stays reserved.
    assert (await pair.a.transfer(created.id)).state is TransferState.PREPARED
    assert await pair.a.hours() == (0, -45)

    pair.wire.down.clear()
    pair.clock.advance(5)
    await pair.a.courier.deliver_due()  # asks for the state: B records the tombstone

    tombstone = await pair.b.transfer(created.id)
    assert tombstone.state is TransferState.REJECTED and tombstone.reason == "quote_expired"
    assert (await pair.a.transfer(created.id)).state is TransferState.REJECTED
    assert await pair.a.hours() == (0, 0) and await pair.b.hours() == (0, 0)
    assert await pair.a.waiting() == 0


async def test_a_prepare_delayed_past_its_expiry_never_commits(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    pair.wire.down.add(pair.b.url)
    created = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 15), None)
    pair.wire.down.clear()
    pair.wire.lose_answers = True
    pair.clock.advance(HOLD_WINDOW_S)  # the prepare arrives after the payee's deadline
    await pair.a.courier.deliver_due()
    pair.wire.lose_answers = False
    pair.clock.advance(5)
    await pair.a.courier.deliver_due()

    for side in (pair.a, pair.b):
        assert (await side.transfer(created.id)).state is TransferState.REJECTED
    assert await pair.a.hours() == (0, 0) and await pair.b.hours() == (0, 0)


async def test_messages_unsigned_mis_signed_replayed_changed_or_for_another_link_are_refused(
    pair: Pair,
) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    pair.wire.lose_answers = True
    await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 10), None)
    await pair.a.courier.deliver_due()
    (_, token), *_ = pair.wire.sent
    header, payload, signature = token.split(".")
    receive = pair.b.receiver.receive

    with pytest.raises(PeerUnauthenticated):
        await receive("")
    with pytest.raises(PeerUnauthenticated):
        await receive(f"{header}.{payload}.{signature[:-4]}AAAA")
    # Signed by a key the link does not know (B's own key, as if from a third node):
    message = verify_with(token, (await pair.a.key()).public)
    with pytest.raises(PeerForbidden):
        await receive(sign(message, await pair.b.key()))
    # Claiming a link the sender is not party to (this node has no such link):
    elsewhere = msgspec.structs.replace(message, link_id=uuid.uuid4())
    with pytest.raises(PeerForbidden):
        await receive(sign(elsewhere, await pair.a.key()))
    # The same transfer and step with another amount:
    changed = dict(message.body)
    changed["description"] = "changed"
    with pytest.raises(PeerReplayConflict):
        await receive(sign(msgspec.structs.replace(message, body=changed), await pair.a.key()))
    assert len(await pair.b.federation.transfers.list_transfers(pair.b.cid)) == 1


async def test_a_rotated_key_is_announced_bound_and_the_previous_one_expires(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    previous = await pair.a.key()
    new, links = await pair.a.rotation.rotate()
    assert links >= 1 and new.kid != previous.kid  # the session database holds others too
    await _deliver_until_quiet(pair)  # the announcement, signed with the previous key

    created = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 25), None)
    await _deliver_until_quiet(pair)  # signed with the new key, which B now knows
    assert (await pair.b.transfer(created.id)).state is TransferState.COMMITTED
    (_, token) = pair.wire.sent[-1]
    message = verify_with(token, new.public)
    # During the grace the previous key still verifies; after it, it is refused.
    again = msgspec.structs.replace(message, sent_at=pair.clock())
    assert (await pair.wire.deliver(pair.b.url, sign(again, previous)))[0] == 200
    pair.clock.advance(8 * 24 * 3600)
    late = msgspec.structs.replace(message, sent_at=pair.clock())
    with pytest.raises(PeerForbidden):
        await pair.b.receiver.receive(sign(late, previous))
    assert (await pair.wire.deliver(pair.b.url, sign(late, new)))[0] == 200


async def test_duplicates_arriving_at_once_take_effect_once_with_one_answer(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    pair.wire.capture_only = True
    created = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 35), None)
    await pair.a.courier.deliver_due()
    (base, token), *_ = pair.wire.sent

    answers = await asyncio.gather(*(pair.wire.deliver(base, token) for _ in range(4)))

    assert {status for status, _ in answers} == {200}
    key = (await pair.b.key()).public
    assert len({msgspec.json.encode(verify_with(body, key).body) for _, body in answers}) == 1
    assert (await pair.b.transfer(created.id)).state is TransferState.COMMITTED
    assert await pair.b.hours() == (35, 0)
