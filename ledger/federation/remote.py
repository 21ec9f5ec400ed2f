"""Cross transfers between installs: the protocol steps (``ledger.federation.protocol``) wired to
signed messages, the peer inbox and the peer outbox.

- The payer's node (A) runs ``prepare`` and, in the same transaction, puts a ``prepare``
  message (the offer) in its peer outbox; the transfer answers ``prepared``.
- The payee's node (B) takes that message through its inbox and runs ``decide`` in the
  transaction that records the inbox entry: its outcome is final, and the answer to every repeat.
- A's courier records B's signed answer by running ``settle`` in the transaction that ends the
  outbox message. Once the hold has expired A asks B for the state instead (``payee_state``:
  the recorded outcome, or the tombstone ``rejected: quote_expired`` for a transfer B never saw).

A never voids on its own clock: only B's signed rejection voids, so no path ends with one side
posted and the other voided (docs/federation.md, "Recovery").
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

import msgspec

from ledger.audit import chain as audit
from ledger.books.envelope import Done, WriteEnvelope
from ledger.books.ports import UnitOfWork, UnitOfWorkFactory
from ledger.federation import errors, protocol, remote_routing, sequencing
from ledger.federation.courier import STATE_STEP, AnswerHandler
from ledger.federation.exchange_follow import follow_transfer
from ledger.federation.messages import LinkPeer, PeerMessage
from ledger.federation.model import (
    Link,
    Offer,
    Transfer,
    TransferRequest,
)
from ledger.federation.model import TransferState as State
from ledger.federation.peer_store import Outbound, PeerStore, PeerStoreOf
from ledger.federation.peering import Step
from ledger.federation.ports import FederationTransactions, FedTx
from ledger.federation.steps import link_of
from ledger.federation.transfer_bodies import (
    UNKNOWN,
    JournalQuery,
    SequenceBody,
    StateQuery,
    convert,
    offer_body,
    offer_of,
    outcome_body,
    outcome_of,
)
from ledger.kernel import errors as kernel_errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import IdempotencyKey, new_id
from ledger.kernel.observer import LedgerEvents

PREPARE_STEP: Final = "prepare"
JOURNAL_STEP: Final = "journal"
SEQUENCE_STEP: Final = "sequence"
JOURNAL_PAGE: Final = 500


async def _seq_of(tx: FedTx, transfer: Transfer) -> int | None:
    """The journal seq of a committed transfer's movement on this side (None otherwise, or
    while it is held for its place in the order)."""
    if transfer.state is not State.COMMITTED:
        return None
    return await tx.store.journal_seq(transfer.community_id, transfer.link_id, transfer.id)


async def _placed(_: UnitOfWork, __: Outbound, answer: PeerMessage) -> bool:
    """The partner node placed the movement (its signed answer): the message is done."""
    return "seq" in answer.body


async def announce_seq(tx: FedTx, peers: PeerStore, transfer: Transfer, now: datetime) -> None:
    """Where this side keeps the link's journal order (the proposer) and has just put a
    commitment it paid in its journal, tells the partner node the movement's seq, through the
    outbox in the same transaction (``ledger.federation.sequencing``)."""
    link = await link_of(tx, transfer.community_id, transfer.link_id)
    seq = await _seq_of(tx, transfer)
    if seq is None or link.partner.node_url is None or not link.proposed_here:
        return
    await peers.enqueue(
        Outbound(
            community_id=transfer.community_id,
            id=new_id(),
            link_id=link.id,
            transfer_id=transfer.id,
            step=SEQUENCE_STEP,
            peer_url=link.partner.node_url,
            body={"seq": seq},
            created_at=now,
            expires_at=None,
            attempts=0,
            next_attempt_at=now,
        )
    )


async def enqueue_prepare(peers: PeerStore, link: Link, offer: Offer, now: datetime) -> None:
    """The offer of a hop for the link's partner node, into the peer outbox (the caller's
    transaction)."""
    assert link.partner.node_url is not None
    await peers.enqueue(
        Outbound(
            community_id=link.community_id,
            id=new_id(),
            link_id=link.id,
            transfer_id=offer.transfer_id,
            step=PREPARE_STEP,
            peer_url=link.partner.node_url,
            body=offer_body(offer),
            created_at=now,
            expires_at=offer.expires_at,
            attempts=0,
            next_attempt_at=now,
        )
    )


async def prepare_and_send(
    tx: FedTx, peers: PeerStore, community_id: uuid.UUID, request: TransferRequest, now: datetime
) -> Transfer:
    """``prepare`` here and the offer into the peer outbox, in the caller's transaction (a
    confirmed cross exchange pays this way too). A repeat of a transfer id answers it as it is.
    Every refusal is raised before anything is written."""
    link = await link_of(tx, community_id, request.link_id)
    if link.partner.node_url is None:
        raise errors.PartnerNotFound(f"the partner of link {link.id} is on this install")
    transfer = await protocol.prepare(tx, community_id, request, now)
    if transfer.created_at == now:
        await enqueue_prepare(peers, link, protocol.offer_of(transfer), now)
    return transfer


class RemoteTransfers:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        transactions: FederationTransactions,
        peers: PeerStoreOf,
        clock: Clock,
        events: LedgerEvents | None = None,
    ) -> None:
        self._transactions = transactions
        self._peers = peers
        self._clock = clock
        self._envelope = WriteEnvelope(units, clock, events)

    async def is_remote(
        self, community_id: uuid.UUID, link_id: uuid.UUID, destination: str | None = None
    ) -> bool:
        """Whether the link's partner — or, for a routed transfer through a hub on this node,
        the destination — lives on another node. An unknown link is not: the local path then
        refuses it inside its write, so the refusal is kept under the request's idempotency
        key like any other answer."""
        async with self._transactions.read() as tx:
            link = await tx.store.get_link(community_id, link_id)
            if link is None or link.partner.node_url is not None:
                return link is not None
            hub_id = link.partner.community_id
            if destination is None or hub_id is None:
                return False
            return await remote_routing.leaves_node(tx, hub_id, destination)

    async def create(
        self,
        community_id: uuid.UUID,
        request: TransferRequest,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Transfer:
        """Pays a member of a community on another node: ``prepare`` here, the offer into the
        peer outbox in the same transaction. Answers the transfer ``prepared``; its outcome
        arrives with the partner's answer."""
        now = self._clock()

        async def work(uow: UnitOfWork) -> Done[Transfer]:
            tx = self._transactions.tx(uow)
            link = await tx.store.get_link(community_id, request.link_id)
            if link is not None and link.partner.node_url is None and request.destination:
                # The hub is on this node, the destination on another.
                send_down = self._prepare_message(uow)
                transfer = await remote_routing.through_hub_here(
                    tx, community_id, request, now, send_down
                )
            else:
                transfer = await prepare_and_send(tx, self._peers(uow), community_id, request, now)
            if transfer.created_at != now:
                return Done(transfer, None)  # a repeat of a transfer id: its current state
            return Done(transfer, "federation_transfer")

        # As on one install (``transfers.create``), the fingerprint leaves the transfer id out:
        # the API gives every request a new one, and a client retrying under its key must get
        # its first transfer back, not a conflict.
        return await self._envelope.decide(
            community_id,
            "federation_transfer",
            replace(request, transfer_id=uuid.UUID(int=0)),
            idempotency_key,
            work=work,
            result_type=Transfer,
        )

    def steps(self) -> dict[str, Step]:
        """What this node takes from partner nodes (``PeerReceiver``)."""
        return {
            PREPARE_STEP: Step(self._decide, recorded=True, again=self._again),
            STATE_STEP: Step(self._state, recorded=False),
            JOURNAL_STEP: Step(self._journal, recorded=False),
            SEQUENCE_STEP: Step(self._sequence, recorded=True),
        }

    def answers(self) -> dict[str, AnswerHandler]:
        """How this node records partner nodes' answers (``Courier``)."""
        return {PREPARE_STEP: self._settle, SEQUENCE_STEP: _placed}

    async def _decide(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        now = self._clock()
        tx = self._transactions.tx(uow)
        offer = offer_of(message)
        if offer.destination is not None:  # this node's community is the hub of a route
            send_down = self._prepare_message(uow)
            upstream = await remote_routing.forward(tx, peer.community_id, offer, now, send_down)
            return outcome_body(upstream, await _seq_of(tx, upstream))
        decided = await protocol.decide(tx, peer.community_id, offer, now)
        if decided.created_at == now:
            event = audit.event("receive_federation_transfer", None, decided, now)
            await tx.repo.append_audit(peer.community_id, event)
            await follow_transfer(tx, decided, now)
        return outcome_body(decided, await _seq_of(tx, decided))

    async def _again(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer, answered: dict[str, Any]
    ) -> dict[str, Any]:
        """A repeated prepare: the first answer if it was an outcome (final); else — a hub
        that had forwarded the transfer — its record as it is now."""
        if answered.get("state") != UNKNOWN:
            return answered
        tx = self._transactions.tx(uow)
        found = await tx.store.get_transfer(peer.community_id, message.transfer_id)
        return outcome_body(found, None if found is None else await _seq_of(tx, found))

    def _prepare_message(self, uow: UnitOfWork) -> remote_routing.SendDown:
        """Puts a prepare for the link's partner node in the outbox (this unit of work)."""

        async def send(link: Link, offer: Offer, now: datetime) -> None:
            await enqueue_prepare(self._peers(uow), link, offer, now)

        return send

    async def _state(self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer) -> dict[str, Any]:
        now = self._clock()
        query = convert(message.body, StateQuery)
        tx = self._transactions.tx(uow)
        found = await protocol.payee_state(
            tx,
            peer.community_id,
            link_id=message.link_id,
            transfer_id=message.transfer_id,
            expires_at=query.expires_at,
            now=now,
        )
        if found is not None and found.created_at == now:  # the tombstone, recorded now
            await follow_transfer(tx, found, now)
        return outcome_body(found, None if found is None else await _seq_of(tx, found))

    async def _journal(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        """A page of this side's journal of the link, for the partner's reconciliation."""
        query = convert(message.body, JournalQuery)
        tx = self._transactions.tx(uow)
        page = await tx.store.movements(
            peer.community_id,
            message.link_id,
            after_seq=query.after_seq,
            limit=min(max(query.limit, 1), JOURNAL_PAGE),
        )
        return {"movements": msgspec.to_builtins(list(page))}

    async def _settle(self, uow: UnitOfWork, sent: Outbound, answer: PeerMessage) -> bool:
        answered = outcome_of(answer)
        if answered is None:
            return False
        outcome, seq = answered
        now = self._clock()
        tx = self._transactions.tx(uow)
        await remote_routing.lock_upstream(tx, sent.community_id, sent.transfer_id)
        settled = await protocol.settle(tx, sent.community_id, outcome, now, seq=seq)
        if settled.updated_at == now:
            event = audit.event("settle_federation_transfer", None, settled, now)
            await tx.repo.append_audit(sent.community_id, event)
            await self.announce_seq(uow, settled, now)
            await follow_transfer(tx, settled, now)
            await remote_routing.conclude(tx, settled, now)  # a hub: the upstream hop too
        return True

    async def announce_seq(self, uow: UnitOfWork, transfer: Transfer, now: datetime) -> None:
        """See :func:`announce_seq` (this unit of work's peer outbox)."""
        await announce_seq(self._transactions.tx(uow), self._peers(uow), transfer, now)

    async def _sequence(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        """The seq the link's proposer gave a movement this side was paid: the movement takes
        its place in this side's journal (held until its predecessor is in)."""
        seq = convert(message.body, SequenceBody).seq
        tx = self._transactions.tx(uow)
        link = await link_of(tx, peer.community_id, message.link_id)
        if link.proposed_here:
            raise kernel_errors.InvalidInput("this side keeps the link's journal order itself")
        await sequencing.place(
            tx, peer.community_id, link, message.transfer_id, seq=seq, now=self._clock()
        )
        return {"seq": seq}
