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
from typing import Any, Final, TypeVar

import msgspec

from ledger.audit import chain as audit
from ledger.books.envelope import Done, WriteEnvelope
from ledger.books.ports import UnitOfWork, UnitOfWorkFactory
from ledger.federation import errors, protocol
from ledger.federation.courier import STATE_STEP, AnswerHandler
from ledger.federation.messages import LinkPeer, PeerMessage
from ledger.federation.model import Offer, Outcome, Quote, Rate, Transfer, TransferRequest
from ledger.federation.model import TransferState as State
from ledger.federation.peer_store import Outbound, PeerStoreOf
from ledger.federation.peering import Step
from ledger.federation.ports import FederationTransactions, FedTx
from ledger.federation.steps import link_of
from ledger.kernel import errors as kernel_errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import IdempotencyKey, new_id
from ledger.kernel.observer import LedgerEvents

_T = TypeVar("_T")
PREPARE_STEP: Final = "prepare"
JOURNAL_STEP: Final = "journal"
JOURNAL_PAGE: Final = 500
UNKNOWN: Final = "unknown"


class _RateBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    numerator: int
    denominator: int


class _QuoteBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rate_version: int
    rate: _RateBody
    commodity_sent: str
    amount_sent: int
    commodity_received: str
    amount_received: int
    min_received: int
    rounding: str


class _OfferBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    payer_member_id: uuid.UUID
    payee_member_id: uuid.UUID
    quote: _QuoteBody
    expires_at: datetime
    description: str


class _OutcomeBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    state: str
    reason: str | None = None
    detail: str | None = None
    seq: int | None = None
    """A commitment's place in the payee side's journal of the link."""


class _JournalQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    after_seq: int
    limit: int


class _StateQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    expires_at: datetime


def offer_body(offer: Offer) -> dict[str, Any]:
    body: dict[str, Any] = msgspec.to_builtins(
        _OfferBody(
            payer_member_id=offer.payer_member_id,
            payee_member_id=offer.payee_member_id,
            quote=msgspec.convert(offer.quote, _QuoteBody, from_attributes=True),
            expires_at=offer.expires_at,
            description=offer.description,
        )
    )
    return body


def offer_of(message: PeerMessage) -> Offer:
    """The offer a ``prepare`` message carries (``invalid_input`` if malformed)."""
    body = _convert(message.body, _OfferBody)
    quote = body.quote
    return Offer(
        transfer_id=message.transfer_id,
        link_id=message.link_id,
        payer_member_id=body.payer_member_id,
        payee_member_id=body.payee_member_id,
        quote=Quote(
            rate_version=quote.rate_version,
            rate=Rate(quote.rate.numerator, quote.rate.denominator),
            commodity_sent=quote.commodity_sent,
            amount_sent=quote.amount_sent,
            commodity_received=quote.commodity_received,
            amount_received=quote.amount_received,
            min_received=quote.min_received,
            rounding=quote.rounding,
        ),
        expires_at=body.expires_at,
        description=body.description,
    )


def outcome_body(transfer: Transfer | None, seq: int | None = None) -> dict[str, Any]:
    """The payee side's answer: its recorded outcome (with the commitment's journal seq), or
    ``unknown`` (not decided yet)."""
    if transfer is None or transfer.state is State.PREPARED:
        return {"state": UNKNOWN}
    body = {"state": str(transfer.state), "reason": transfer.reason, "detail": transfer.detail}
    return body | ({"seq": seq} if seq is not None else {})


def outcome_of(message: PeerMessage) -> tuple[Outcome, int | None] | None:
    """The outcome an answer carries and the payee side's journal seq of a commitment."""
    body = _convert(message.body, _OutcomeBody)
    if body.state == UNKNOWN:
        return None
    if body.state not in (State.COMMITTED, State.REJECTED):
        raise kernel_errors.InvalidInput(f"an outcome is committed or rejected, not {body.state}")
    return Outcome(message.transfer_id, State(body.state), body.reason, body.detail), body.seq


async def _seq_of(tx: FedTx, transfer: Transfer) -> int | None:
    """The journal seq of a committed transfer's movement on this side (None otherwise)."""
    if transfer.state is not State.COMMITTED:
        return None
    after = 0
    while True:
        page = await tx.store.movements(
            transfer.community_id, transfer.link_id, after_seq=after, limit=JOURNAL_PAGE
        )
        for movement in reversed(page):
            if movement.transfer_id == transfer.id:
                return movement.seq
        if len(page) < JOURNAL_PAGE:
            return None
        after = page[-1].seq


async def _next_in_journal(tx: FedTx, sent: Outbound, seq: int) -> bool:
    """Whether a commitment the payee side journaled at ``seq`` comes next in this side's
    journal of the link (the link's row locked): the two chains then hold the movements in the
    same order. A journal already past it (transfers both ways at once) takes it as it comes."""
    await link_of(tx, sent.community_id, sent.link_id)
    head = await tx.store.journal_head(sent.community_id, sent.link_id)
    return (0 if head is None else head[0]) >= seq - 1


def _convert(body: dict[str, Any], kind: type[_T]) -> _T:
    try:
        return msgspec.convert(body, kind)
    except msgspec.ValidationError as exc:
        raise kernel_errors.InvalidInput(f"malformed peer message: {exc}") from None


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

    async def is_remote(self, community_id: uuid.UUID, link_id: uuid.UUID) -> bool:
        """Whether the link's partner lives on another node. An unknown link is not: the local
        path then refuses it inside its write, so the refusal is kept under the request's
        idempotency key like any other answer."""
        async with self._transactions.read() as tx:
            link = await tx.store.get_link(community_id, link_id)
        return link is not None and link.partner.node_url is not None

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
            link = await link_of(tx, community_id, request.link_id)
            if link.partner.node_url is None:
                raise errors.PartnerNotFound(f"the partner of link {link.id} is on this install")
            transfer = await protocol.prepare(tx, community_id, request, now)
            if transfer.created_at != now:
                return Done(transfer, None)  # a repeat of a transfer id: its current state
            await self._peers(uow).enqueue(
                Outbound(
                    community_id=community_id,
                    id=new_id(),
                    link_id=link.id,
                    transfer_id=transfer.id,
                    step=PREPARE_STEP,
                    peer_url=link.partner.node_url,
                    body=offer_body(protocol.offer_of(transfer)),
                    created_at=now,
                    expires_at=transfer.expires_at,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
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
            PREPARE_STEP: Step(self._decide, recorded=True),
            STATE_STEP: Step(self._state, recorded=False),
            JOURNAL_STEP: Step(self._journal, recorded=False),
        }

    def answers(self) -> dict[str, AnswerHandler]:
        """How this node records partner nodes' answers (``Courier``)."""
        return {PREPARE_STEP: self._settle}

    async def _decide(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        now = self._clock()
        tx = self._transactions.tx(uow)
        decided = await protocol.decide(tx, peer.community_id, offer_of(message), now)
        if decided.created_at == now:
            event = audit.event("receive_federation_transfer", None, decided, now)
            await tx.repo.append_audit(peer.community_id, event)
        return outcome_body(decided, await _seq_of(tx, decided))

    async def _state(self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer) -> dict[str, Any]:
        now = self._clock()
        query = _convert(message.body, _StateQuery)
        tx = self._transactions.tx(uow)
        found = await protocol.payee_state(
            tx,
            peer.community_id,
            link_id=message.link_id,
            transfer_id=message.transfer_id,
            expires_at=query.expires_at,
            now=now,
        )
        return outcome_body(found, None if found is None else await _seq_of(tx, found))

    async def _journal(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        """A page of this side's journal of the link, for the partner's reconciliation."""
        query = _convert(message.body, _JournalQuery)
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
        if seq is not None and not await _next_in_journal(tx, sent, seq):
            return False  # an earlier commitment's answer is still on its way: settle in order
        settled = await protocol.settle(tx, sent.community_id, outcome, now)
        if settled.updated_at == now:
            event = audit.event("settle_federation_transfer", None, settled, now)
            await tx.repo.append_audit(sent.community_id, event)
        return True
