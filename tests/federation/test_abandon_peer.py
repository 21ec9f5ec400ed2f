"""A partner node gone for good (``ledger.federation.abandon``, ``commons-ledger federation
abandon-peer``): nothing is settled while a hold can still be decided; then, on the partner's
stewards' word, what their node posted is posted here and the rest voided, the link closes here
and its messages end — and if the partner comes back after all, both books still agree."""

from __future__ import annotations

import pytest

from ledger.federation import protocol
from ledger.federation.abandon import ABANDONED, HoldsOpen
from ledger.federation.model import LinkStatus, TransferState
from ledger.kernel import errors
from ledger.kernel.model import new_id
from tests.faults.cluster import free_port
from tests.federation.conftest import Pair
from tests.federation.nodes import HOLD_WINDOW_S as IN_PROCESS_HOLD_S
from tests.federation.nodes import linked, request
from tests.federation.processes import (
    HOLD_WINDOW_S,
    ProcessNode,
    advance_clocks,
    link,
    new_members,
    pay,
    start_both,
)


async def test_abandoning_a_peer_settles_on_its_stewards_word_only_after_every_hold_expired(
    pair: Pair,
) -> None:
    a, b = pair.a, pair.b
    link_ = await linked(a, b, pair.clock)
    abandonment = a.abandonment
    posted = await a.remote.create(a.cid, request(a, b, link_, 30))
    pair.wire.lose_answers = True
    await a.courier.deliver_due()  # B posts it; its answer is lost
    pair.wire.down.add(b.url)
    unseen = await a.remote.create(a.cid, request(a, b, link_, 20))
    await a.courier.deliver_due()  # B is gone: it never sees this one
    assert (await b.transfer(posted.id)).state is TransferState.COMMITTED

    planned = await abandonment.plan(a.cid, link_.id)
    assert [t.id for t in planned.in_flight] == [posted.id, unseen.id]
    confirmed = "Hilltop's stewards, 5 Dec: their last backup has the 30 min, not the 20"
    with pytest.raises(HoldsOpen):  # B may still decide until the holds expire
        await abandonment.abandon(
            a.cid, link_.id, confirmation=confirmed, posted_by_partner=frozenset({posted.id})
        )
    pair.clock.advance(IN_PROCESS_HOLD_S)
    with pytest.raises(errors.InvalidInput):  # only a transfer in flight can be named
        await abandonment.abandon(
            a.cid, link_.id, confirmation=confirmed, posted_by_partner=frozenset({new_id()})
        )
    assert await a.hours() == (0, -50)  # nothing changed

    done = await abandonment.abandon(
        a.cid, link_.id, confirmation=confirmed, posted_by_partner=frozenset({posted.id})
    )
    assert [t.state for t in done.in_flight] == [TransferState.COMMITTED, TransferState.REJECTED]
    voided = await a.transfer(unseen.id)
    assert voided.reason == ABANDONED and confirmed in (voided.detail or "")
    assert await a.hours() == (-30, 0) and await b.hours() == (30, 0)
    assert (await a.federation.links.get(a.cid, link_.id)).status is LinkStatus.CLOSED
    assert done.messages_ended == 2  # both prepares
    assert await a.waiting() == 1  # the posted one's place in the journal, for a partner back

    # The partner comes back after all: the books agree, and the voided transfer can never
    # commit there (asked about, it records the tombstone).
    pair.wire.down.clear()
    pair.wire.lose_answers = False
    await a.courier.deliver_due()
    assert await a.waiting() == 0
    result = await a.reconciliation.reconcile(a.cid, link_.id)
    assert result.agrees and result.books_agree, (result.journal.reason, result.checkpoint)
    async with b.federation.transactions.step() as tx:
        state = await protocol.payee_state(
            tx,
            b.cid,
            link_id=link_.id,
            transfer_id=unseen.id,
            expires_at=unseen.expires_at,
            now=pair.clock(),
        )
    assert state is not None and state.state is TransferState.REJECTED


def test_the_abandon_peer_command_lists_then_voids_what_the_partner_never_saw(
    linked_nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    a, b, _ = linked_nodes
    start_both(a, b)
    gone = f"http://127.0.0.1:{free_port()}"  # where B's acceptance says it is: nothing answers
    link_id, a_side, b_side = link(a, b, "HOURS:HOURS:1/1:600:600", b_seen_at=gone)
    new_members(a_side, b_side)
    transfer_id = pay(a_side, b_side, link_id, 45)
    command = ("federation", "abandon-peer", a_side.slug, link_id)
    listed = a_side.cli(*command)
    assert f"{transfer_id}  45 HOURS" in listed and "may still decide" in listed, listed
    assert "Nothing changed" in listed
    advance_clocks(HOLD_WINDOW_S + 1, a, b)
    done = a_side.cli(*command, "--confirm", "Hilltop's stewards: the node is lost")
    assert f"{transfer_id}  45 HOURS" in done and ": voided" in done, done
    assert "Link closed here; 1 unanswered peer message(s) ended." in done
    settled = a_side.transfer(transfer_id)
    assert (settled["state"], settled["reason"]) == ("rejected", ABANDONED)
    assert a_side.hours() == (0, 0)
