"""Signed checkpoints between two nodes (``ledger.federation.checkpoints``,
``ledger.federation.remote_reconcile``): exchanged on demand and kept on both sides with the
partner's signature; reconciliation answers from the latest checkpoints and fetches only the
movements after them; each side's balance is minus the other's in the other's units; a changed
checkpoint, a changed journal and a checkpoint whose balances lie are each detected and named.
Two nodes in one process (``nodes.py``), SQLite and PostgreSQL each way round."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from api.federation_settings import FederationSettings
from api.http.common.errors import STATUS_BY_CODE
from api.settings import SettingsError
from ledger.federation.checkpoints import open_checkpoint
from ledger.federation.journal import Exchanged
from ledger.federation.messages import PeerMessage, PeerUnauthenticated, sign, verify_with
from ledger.federation.model import Link, Rate
from ledger.federation.remote import JOURNAL_STEP
from ledger.federation.remote_reconcile import CHECKPOINT_STEP, PartnerUnreachable
from ledger.store.federation import SqlFederationStore
from ledger.store.federation_peer import SqlPeerStore
from ledger.store.scoped import connection_of
from ledger.store.tables import federation_checkpoints, federation_journal
from tests.federation.conftest import Pair
from tests.federation.nodes import Node, linked, request

RATE = Rate(3, 2)
"""Hilltop minutes per Riverside minute: 30 sent from A arrive as 45, 20 from B as 13."""


async def _quiet(pair: Pair) -> None:
    for _ in range(8):
        await asyncio.gather(pair.a.courier.deliver_due(), pair.b.courier.deliver_due())
        if await pair.a.waiting() == 0 and await pair.b.waiting() == 0:
            return
        pair.clock.advance(10)
    raise AssertionError("messages still waiting")


async def _traffic(pair: Pair, link: Link, rounds: int = 2) -> None:
    """Transfers both ways at once, delivered until quiet: 30 from A and 20 from B per round."""
    for _ in range(rounds):
        await asyncio.gather(
            pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 30), None),
            pair.b.remote.create(pair.b.cid, request(pair.b, pair.a, link, 20), None),
        )
    await _quiet(pair)


async def _kept(node: Node, link: Link) -> list[Exchanged]:
    async with node.units(write=False) as unit:
        return list(await SqlFederationStore.of(unit).checkpoints(node.cid, link.id, upto=10**9))


def _steps(pair: Pair, since: int) -> list[tuple[str, dict[str, Any]]]:
    """The steps (and bodies) of the messages sent on the wire since ``since``, unverified."""
    found = []
    for _, token in pair.wire.sent[since:]:
        payload = token.split(".")[1]
        message = msgspec.json.decode(_b64(payload), type=PeerMessage)
        found.append((message.step, message.body))
    return found


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def _sql(node: Node, statement: Any) -> None:
    async with node.units(write=True) as unit:
        await connection_of(unit).execute(statement)
        await unit.commit()


async def test_checkpoints_are_exchanged_signed_kept_on_both_sides_and_mirror(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock, rate=RATE)
    await _traffic(pair, link)
    since = len(pair.wire.sent)

    result = await pair.a.reconciliation.reconcile(pair.a.cid, link.id)

    assert result.agrees and result.books_agree
    assert result.journal.agrees_up_to == 4
    check = result.checkpoint
    assert check is not None and (check.seq, check.same_chain, check.mirror) == (4, True, True)
    # A owes 2 × 30 − 2 × 13 Riverside minutes; B is owed 2 × 45 − 2 × 20 Hilltop minutes:
    # minus A's balance in B's units, movement by movement.
    assert result.journal.ours.balances == {"HOURS": 34}
    assert result.journal.theirs.balances == {"HOURS": -50}
    assert result.journal.ours.partner_balances == {"HOURS": -50}
    # One checkpoint query answered from the checkpoints: no movement was fetched.
    assert [step for step, _ in _steps(pair, since)] == [CHECKPOINT_STEP]
    for node, other in ((pair.a, pair.b), (pair.b, pair.a)):
        (kept,) = await _kept(node, link)
        assert (kept.ours.seq, kept.agrees, kept.partner_hash) == (4, True, kept.ours.hash)
        async with node.units(write=False) as unit:
            peer = await SqlPeerStore.of(unit).peer(link.id, pair.clock())
        assert peer is not None and peer.peer_url == other.url
        # The partner's signature is kept: it verifies again, apart from the exchange.
        assert open_checkpoint(kept.partner_signed, peer).hash == kept.ours.hash


async def test_reconciliation_fetches_only_the_movements_after_the_latest_checkpoint(
    pair: Pair,
) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    await _traffic(pair, link)
    assert (await pair.b.reconciliation.exchange(pair.b.cid, link.id)).check.problem is None
    # One side moves on before the other knows (B holds A's last transfer for its seq).
    await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 5), None)
    await pair.a.courier.deliver_due()
    since = len(pair.wire.sent)

    behind = await pair.b.reconciliation.reconcile(pair.b.cid, link.id)

    assert behind.journal.first_difference == 5 and behind.books_agree  # held, not lost
    assert behind.held == 1
    assert behind.journal.reason == "the partner's journal has movements this side lacks"
    asked = [body for step, body in _steps(pair, since) if step == JOURNAL_STEP]
    assert asked and asked[0]["after_seq"] == 4
    await _quiet(pair)
    later = await pair.b.reconciliation.reconcile(pair.b.cid, link.id)
    assert later.agrees and later.journal.agrees_up_to == 5


async def test_the_interval_exchanges_once_the_journal_moved(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    every = timedelta(hours=1)
    assert await pair.a.reconciliation.exchange_due(every) == 0  # nothing moved yet
    await _traffic(pair, link, rounds=1)
    assert await pair.b.reconciliation.exchange_due(every) == 0  # the proposer's side does it
    assert await pair.a.reconciliation.exchange_due(every) == 1
    assert [k.ours.seq for k in await _kept(pair.b, link)] == [2]
    await _traffic(pair, link, rounds=1)
    assert await pair.a.reconciliation.exchange_due(every) == 0  # not an hour yet
    pair.clock.advance(3600)
    assert await pair.a.reconciliation.exchange_due(every) == 1
    assert [k.ours.seq for k in await _kept(pair.b, link)] == [4, 2]


async def test_a_changed_checkpoint_is_refused_and_named(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    await _traffic(pair, link, rounds=1)
    await pair.a.reconciliation.exchange(pair.a.cid, link.id)
    (kept,) = await _kept(pair.a, link)
    header, payload, signature = kept.partner_signed.split(".")
    body = msgspec.json.decode(_b64(payload))
    body["body"]["balances"] = {"HOURS": 0}
    forged = ".".join((header, _b64text(msgspec.json.encode(body)), signature))
    async with pair.a.units(write=False) as unit:
        peer = await SqlPeerStore.of(unit).peer(link.id, pair.clock())
    assert peer is not None
    with pytest.raises(PeerUnauthenticated, match="partner's checkpoint does not verify"):
        open_checkpoint(forged, peer)
    # Sent to B inside a properly signed query, the changed checkpoint is refused there too.
    query = PeerMessage(
        link.id,
        uuid.uuid4(),
        CHECKPOINT_STEP,
        pair.clock(),
        pair.a.url,
        pair.b.url,
        {"signed": forged},
    )
    with pytest.raises(PeerUnauthenticated, match="changed since it was signed"):
        await pair.b.receiver.receive(sign(query, await pair.a.key()))
    assert len(await _kept(pair.b, link)) == 1


def _b64text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def test_a_changed_journal_is_named_at_its_first_differing_movement(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    await _traffic(pair, link)
    await pair.a.reconciliation.exchange(pair.a.cid, link.id)
    await _traffic(pair, link, rounds=1)
    # Someone changes movement 5 in B's database, after the agreed checkpoint at 4.
    j = federation_journal
    await _sql(
        pair.b,
        j.update()
        .where(j.c.community_id == pair.b.cid, j.c.link_id == link.id, j.c.seq == 5)
        .values(amount_received=j.c.amount_received + 1),
    )

    result = await pair.a.reconciliation.reconcile(pair.a.cid, link.id)

    assert not result.agrees
    assert (result.journal.agrees_up_to, result.journal.first_difference) == (4, 5)
    assert (
        result.journal.reason == "the partner's journal: movement 5 does not match its hash chain"
    )
    # B could vouch for its journal only up to 4, where the two agree; A's books are whole.
    assert result.checkpoint is not None and result.checkpoint.seq == 4
    assert result.books_agree
    # B's own reconciliation names its own journal.
    own = await pair.b.reconciliation.reconcile(pair.b.cid, link.id)
    assert own.journal.reason == "this side's journal: movement 5 does not match its hash chain"


async def test_a_journal_changed_under_its_checkpoint_is_named(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    await _traffic(pair, link)
    await pair.a.reconciliation.exchange(pair.a.cid, link.id)
    j = federation_journal
    await _sql(
        pair.a,
        j.update()
        .where(j.c.community_id == pair.a.cid, j.c.link_id == link.id, j.c.seq == 4)
        .values(hash="0" * 64),
    )

    result = await pair.a.reconciliation.reconcile(pair.a.cid, link.id)

    assert not result.agrees
    assert result.checkpoint is not None
    assert result.checkpoint.problem == (
        "this side's journal no longer matches its checkpoint at seq 4 "
        "(changed since that checkpoint was exchanged)"
    )
    assert result.journal.first_difference == 4
    assert result.journal.reason == "this side's journal: movement 4 does not match its hash chain"


async def test_a_checkpoint_whose_balances_are_not_the_mirror_is_named(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    await _traffic(pair, link)
    await pair.a.reconciliation.exchange(pair.a.cid, link.id)
    # B's kept checkpoint is changed: B then signs the same chain with balances that are not
    # minus A's.
    c = federation_checkpoints
    await _sql(
        pair.b,
        c.update()
        .where(c.c.community_id == pair.b.cid, c.c.link_id == link.id)
        .values(balances={"HOURS": 7}),
    )
    await _traffic(pair, link, rounds=1)

    result = await pair.a.reconciliation.reconcile(pair.a.cid, link.id)

    assert not result.agrees and result.journal.agrees  # the movements are the same
    check = result.checkpoint
    assert check is not None and (check.seq, check.same_chain, check.mirror) == (6, True, False)
    assert check.problem == (
        "the partner's signed checkpoint at seq 6 gives balances that are not this side's "
        "mirror, although the chains are the same"
    )


async def test_a_partner_answering_a_changed_checkpoint_is_named_and_nothing_is_kept(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    await _traffic(pair, link, rounds=1)
    b_key = await pair.b.key()
    deliver = pair.wire.deliver

    async def changing(base: str, token: str) -> tuple[int, str]:
        """B's answer, its inner signed checkpoint changed, the answer signed again by B."""
        status, body = await deliver(base, token)
        answer = verify_with(body, b_key.public)
        if status != 200 or answer.step != CHECKPOINT_STEP + ".answer":
            return status, body
        header, payload, signature = answer.body["signed"].split(".")
        inner = msgspec.json.decode(_b64(payload))
        inner["body"]["balances"] = {"HOURS": 0}
        changed = ".".join((header, _b64text(msgspec.json.encode(inner)), signature))
        return status, sign(
            msgspec.structs.replace(answer, body={**answer.body, "signed": changed}), b_key
        )

    monkeypatch.setattr(pair.wire, "deliver", changing)

    result = await pair.a.reconciliation.reconcile(pair.a.cid, link.id)

    assert not result.agrees and result.journal.agrees  # the movements still agree
    assert result.checkpoint is not None and result.checkpoint.problem is not None
    assert "the partner's checkpoint does not verify" in result.checkpoint.problem
    assert await _kept(pair.a, link) == []


async def test_a_partner_node_that_does_not_answer_is_a_503_problem(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    pair.wire.down.add(pair.b.url)
    with pytest.raises(PartnerUnreachable, match="did not answer"):
        await pair.a.reconciliation.reconcile(pair.a.cid, link.id)
    assert STATUS_BY_CODE[PartnerUnreachable.code] == 503


def test_the_checkpoint_interval_is_a_setting_an_hour_by_default() -> None:
    assert FederationSettings.from_env({}).checkpoint_s == 3600
    off = FederationSettings.from_env({"COMMONS_LEDGER_CHECKPOINT_S": "0"})
    assert off.checkpoint_s == 0  # only on demand
    for wrong in ("-1", "soon", str(8 * 24 * 3600)):
        with pytest.raises(SettingsError, match="COMMONS_LEDGER_CHECKPOINT_S"):
            FederationSettings.from_env({"COMMONS_LEDGER_CHECKPOINT_S": wrong})


async def test_an_empty_journal_on_one_side_is_a_movement_the_other_lacks(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    empty = await pair.a.reconciliation.reconcile(pair.a.cid, link.id)
    assert empty.agrees and empty.journal.agrees_up_to == 0 and await _kept(pair.a, link) == []
    await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 5), None)
    await pair.a.courier.deliver_due()  # A numbered it; B holds it until `sequence` arrives

    result = await pair.a.reconciliation.reconcile(pair.a.cid, link.id)

    assert (result.journal.agrees_up_to, result.journal.first_difference) == (0, 1)
    assert result.journal.reason == "this side's journal has movements the partner lacks"
    await _quiet(pair)
    assert (await pair.a.reconciliation.reconcile(pair.a.cid, link.id)).agrees
