"""One order for a link's journal between installs (``ledger.federation.sequencing``): the
link's proposer numbers every movement, the other side appends in that order, holding a
movement that arrives before its predecessor. Transfers both ways at once, and reordered and
duplicated ``sequence`` messages, leave both sides' hash chains identical (two nodes in one
process, see ``nodes.py``; SQLite and PostgreSQL each way round)."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from ledger.federation.model import Link, TransferState
from ledger.federation.remote import SEQUENCE_STEP
from ledger.federation.transfers import journal_of
from ledger.store.federation_peer import SqlPeerStore
from tests.federation.conftest import Pair
from tests.federation.nodes import Node, linked, request


async def _quiet(pair: Pair) -> None:
    """Both couriers, the clock moved past each backoff, until neither has a message waiting."""
    for _ in range(8):
        await asyncio.gather(pair.a.courier.deliver_due(), pair.b.courier.deliver_due())
        if await pair.a.waiting() == 0 and await pair.b.waiting() == 0:
            return
        pair.clock.advance(10)
    raise AssertionError("messages still waiting")


async def _journal(node: Node, link: Link) -> list[tuple[int, uuid.UUID, str]]:
    async with node.federation.transactions.read() as tx:
        found = await journal_of(tx, node.cid, link.id)
    return [(m.seq, m.transfer_id, m.hash) for m in found]


async def _alike(pair: Pair, link: Link, moved: int) -> None:
    """Both journals hold the same chain, reconciliation agrees, the hours moved sum to zero."""
    ours, theirs = await _journal(pair.a, link), await _journal(pair.b, link)
    assert ours == theirs
    a_posted, a_pending = await pair.a.hours()
    b_posted, b_pending = await pair.b.hours()
    assert (a_posted, a_pending, b_posted, b_pending) == (-moved, 0, moved, 0)
    for node in (pair.a, pair.b):
        result = await node.reconciliation.reconcile(node.cid, link.id)
        assert result.journal.agrees, result.journal.reason
        assert result.journal.agrees_up_to == len(ours)
        assert result.books_agree


async def test_transfers_both_ways_settled_at_once_make_one_chain(pair: Pair) -> None:
    """Each side decides the other's transfer before either hears its answer: on main the
    payee of each appended it first, so the chains differed at seq 1 (reconcile named it)."""
    link = await linked(pair.a, pair.b, pair.clock)  # A proposed the link
    a_to_b = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 30), None)
    b_to_a = await pair.b.remote.create(pair.b.cid, request(pair.b, pair.a, link, 20), None)
    pair.wire.lose_answers = True
    await asyncio.gather(pair.a.courier.deliver_due(), pair.b.courier.deliver_due())
    for node, transfer_id in ((pair.b, a_to_b.id), (pair.a, b_to_a.id)):
        assert (await node.transfer(transfer_id)).state is TransferState.COMMITTED
    pair.wire.lose_answers = False
    pair.clock.advance(5)
    await _quiet(pair)

    # The proposer's order: B's transfer was posted first at A (the payee), then A's.
    assert [t for _, t, _ in await _journal(pair.a, link)] == [b_to_a.id, a_to_b.id]
    await _alike(pair, link, 10)


async def test_many_transfers_both_ways_at_once_keep_the_chains_identical(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    for _ in range(3):
        await asyncio.gather(
            *(
                pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 7), None)
                for _ in range(4)
            ),
            *(
                pair.b.remote.create(pair.b.cid, request(pair.b, pair.a, link, 5), None)
                for _ in range(4)
            ),
        )
        await asyncio.gather(pair.a.courier.deliver_due(), pair.b.courier.deliver_due())
    await _quiet(pair)

    assert len(await _journal(pair.a, link)) == 24
    await _alike(pair, link, 12 * 7 - 12 * 5)


async def test_sequence_messages_reordered_and_duplicated_take_their_place_once(
    pair: Pair,
) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    paid = [
        await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, amount), None)
        for amount in (10, 20, 30)
    ]
    await pair.a.courier.deliver_due()  # B decides each; A settles and numbers them 1, 2, 3
    assert await _journal(pair.b, link) == []  # posted at B, each waiting for its seq
    assert await pair.b.hours() == (60, 0)
    pair.wire.capture_only = True
    await pair.a.courier.deliver_due()
    sent = [token for _, token in pair.wire.sent[-3:]]
    async with pair.a.units(write=False) as unit:
        assert {m.step for m in await SqlPeerStore.of(unit).waiting()} >= {SEQUENCE_STEP}

    third, first, second = sent[2], sent[0], sent[1]
    for token in (third, third):  # ahead of its predecessors: held, twice over
        assert (await pair.wire.deliver(pair.b.url, token))[0] == 200
    assert await _journal(pair.b, link) == []
    for token in (first, third, second, first):
        assert (await pair.wire.deliver(pair.b.url, token))[0] == 200
    assert [t for _, t, _ in await _journal(pair.b, link)] == [p.id for p in paid]

    pair.wire.capture_only = False
    pair.clock.advance(5)
    await _quiet(pair)  # A's own retries are answered from B's inbox: no second effect
    await _alike(pair, link, 60)


@pytest.mark.parametrize("seed", [7])
async def test_random_interleavings_both_ways_with_messages_reordered_and_repeated(
    pair: Pair, seed: int
) -> None:
    """Transfers both ways, every message held on the wire and delivered by the test in a
    random order, some twice, while both couriers retry: one chain on both sides at the end."""
    rnd = random.Random(seed)
    link = await linked(pair.a, pair.b, pair.clock)
    pair.wire.capture_only = True
    made: list[tuple[Node, Node, uuid.UUID, int]] = []
    delivered: list[tuple[str, str]] = []
    for _ in range(40):
        action = rnd.choice(("pay a", "pay b", "pass", "deliver", "deliver", "repeat"))
        if action.startswith("pay"):
            payer, payee = (pair.a, pair.b) if action == "pay a" else (pair.b, pair.a)
            amount = rnd.randint(1, 9)
            created = await payer.remote.create(
                payer.cid, request(payer, payee, link, amount), None
            )
            made.append((payer, payee, created.id, amount))
        elif action == "pass":
            await asyncio.gather(pair.a.courier.deliver_due(), pair.b.courier.deliver_due())
            pair.clock.advance(1)
        elif action == "deliver" and pair.wire.sent:
            base, token = pair.wire.sent.pop(rnd.randrange(len(pair.wire.sent)))
            assert (await pair.wire.deliver(base, token))[0] == 200
            delivered.append((base, token))
        elif action == "repeat" and delivered:
            base, token = rnd.choice(delivered)
            # A repeat signed long ago may be refused as stale; it never takes a second effect.
            assert (await pair.wire.deliver(base, token))[0] in (200, 401)
    pair.wire.capture_only = False
    pair.clock.advance(5)
    await _quiet(pair)

    moved = 0
    for payer, payee, transfer_id, amount in made:
        state = (await payer.transfer(transfer_id)).state
        assert state is (await payee.transfer(transfer_id)).state is not TransferState.PREPARED
        if state is TransferState.COMMITTED:
            moved += amount if payer is pair.a else -amount
    await _alike(pair, link, moved)
