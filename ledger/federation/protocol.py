"""The three steps of a cross transfer, each a retry-safe state transition keyed by
``(transfer_id, step)`` and answered with the current state, over one side's transaction.

1. :func:`prepare` at the payer's community A: P's pending entry to the clearing account that
   stands for B, within A's limit on the link, and the quote; state ``prepared``.
2. :func:`decide` at the payee's community B, the only side that can end a transfer (the
   downstream side decides, as in ILP): refuses (records ``rejected``) or posts the clearing
   account that stands for A → Q in the transaction that records ``committed``. Final.
3. :func:`settle` at A on B's outcome: posts or voids P's pending entry. A never voids on its
   own clock; the only way to void is B's recorded rejection.

On one install the three run in one transaction (``ledger.federation.transfers``); between
installs each runs on its own node. Every step also appends the link's journal where it posts.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from ledger.books import rules
from ledger.books.writes import complete_pending, write_checked_entry
from ledger.federation import errors, steps
from ledger.federation.model import (
    SKEW_MARGIN,
    Offer,
    Outcome,
    Quote,
    Transfer,
    TransferRequest,
    TransferRole,
    TransferState,
)
from ledger.federation.ports import FedTx
from ledger.federation.terms import InForce, in_force
from ledger.kernel import errors as kernel_errors
from ledger.kernel.model import (
    EntryStatus,
    NewEntry,
)

TRANSFER_KIND = "federation_transfer"
"""The kind of a cross transfer's entries on both sides."""

# Their first home was this module; the peer part may name them from here.
link_of = steps.link_of
member_account = steps.member_account
quote = steps.quote


def _same_request(transfer: Transfer, request: TransferRequest) -> bool:
    return (
        transfer.role is TransferRole.PAYER
        and transfer.link_id == request.link_id
        and transfer.member_id == request.payer_member_id
        and transfer.partner_member_id == request.payee_member_id
        and transfer.quote is not None
        and transfer.quote.commodity_sent == request.commodity
        and transfer.quote.amount_sent == request.amount
        and transfer.quote.min_received == request.min_received
        and transfer.destination == request.destination
    )


async def prepare(
    tx: FedTx, community_id: uuid.UUID, request: TransferRequest, now: datetime
) -> Transfer:
    """Step 1 at the payer's community (see the module). A transfer id seen before answers its
    current state (``transfer_conflict`` if the request differs)."""
    known = await tx.store.get_transfer(community_id, request.transfer_id, lock=True)
    if known is not None:
        if not _same_request(known, request):
            raise errors.TransferConflict(f"transfer {request.transfer_id} exists, not like this")
        return known
    steps.check_amounts(request.amount, request.min_received)
    rules.check_description(request.description)
    link = await steps.link_of(tx, community_id, request.link_id)
    terms = in_force(link, request.commodity)
    # A routed transfer's minimum is the payee's, checked by the hop that reaches it; the
    # payer's record keeps it in its quote.
    hop_min = 1 if request.destination is not None else request.min_received
    the_quote = replace(
        steps.quote(terms, request.amount, hop_min), min_received=request.min_received
    )
    payer = await steps.member_account(tx, community_id, request.payer_member_id, request.commodity)
    clearing = await steps.locked_clearing(tx, community_id, terms)
    owed = clearing.balance.ceiling + request.amount
    if owed > terms.terms.limit_we_owe:
        raise await steps.over_limit(
            tx,
            community_id,
            request.commodity,
            f"this community would owe {link.partner.name}",
            owed=owed,
            limit=terms.terms.limit_we_owe,
        )
    spec = NewEntry(
        postings=(
            steps.moves(payer, request.amount, raise_balance=False),
            steps.moves(clearing, request.amount, raise_balance=True),
        ),
        description=request.description,
        pending=True,
        kind=TRANSFER_KIND,
        metadata=steps.metadata(request.transfer_id, link, TransferRole.PAYER),
    )
    rules.check_entry(spec)
    entry = await write_checked_entry(tx.repo, community_id, spec, lambda: now)
    transfer = Transfer(
        community_id=community_id,
        id=request.transfer_id,
        link_id=link.id,
        role=TransferRole.PAYER,
        state=TransferState.PREPARED,
        member_id=request.payer_member_id,
        partner_member_id=request.payee_member_id,
        quote=the_quote,
        expires_at=now + timedelta(seconds=terms.hold_window_s),
        entry_id=entry.id,
        reason=None,
        detail=None,
        description=request.description,
        created_at=now,
        updated_at=now,
        destination=request.destination,
    )
    await tx.store.insert_transfer(transfer)
    return transfer


def offer_of(transfer: Transfer) -> Offer:
    """What the payer's side sends the payee's for a prepared transfer."""
    assert transfer.quote is not None and transfer.member_id is not None
    assert transfer.partner_member_id is not None
    routed = transfer.destination is not None
    return Offer(
        transfer_id=transfer.id,
        link_id=transfer.link_id,
        payer_member_id=transfer.member_id,
        payee_member_id=transfer.partner_member_id,
        quote=replace(transfer.quote, min_received=1) if routed else transfer.quote,
        expires_at=transfer.expires_at,
        description=transfer.description,
        destination=transfer.destination,
        final_min_received=transfer.quote.min_received,
    )


def check_offer(offer: Offer, terms: InForce) -> None:
    """The offer's quote is the one the terms in force give (seen from the payer's side)."""
    theirs = terms.terms.mirror()
    expected = Quote(
        rate_version=terms.version,
        rate=theirs.rate,
        commodity_sent=theirs.commodity,
        amount_sent=offer.quote.amount_sent,
        commodity_received=terms.terms.commodity,
        amount_received=theirs.rate.convert(offer.quote.amount_sent),
        min_received=offer.quote.min_received,
    )
    if offer.quote != expected:
        raise errors.QuoteExpired("the quote is not what the link's terms in force give")
    if expected.amount_received < max(offer.quote.min_received, 1):
        raise errors.BelowMinimum("the amount received is below the least the payer accepts")


async def _accept(tx: FedTx, community_id: uuid.UUID, offer: Offer, now: datetime) -> Transfer:
    """Posts the transfer at the payee's side, or raises the refusal."""
    if now >= offer.expires_at - SKEW_MARGIN:
        raise errors.QuoteExpired(f"transfer {offer.transfer_id} expired at {offer.expires_at}")
    link = await tx.store.get_link(community_id, offer.link_id, lock=True)
    if link is None:
        raise errors.NotParty(f"this community is not party to link {offer.link_id}")
    terms = in_force(link, offer.quote.commodity_received)
    check_offer(offer, terms)
    received = offer.quote.amount_received
    payee = await steps.member_account(
        tx, community_id, offer.payee_member_id, terms.terms.commodity
    )
    clearing = await steps.locked_clearing(tx, community_id, terms)
    owed_to_us = received - clearing.balance.available
    if owed_to_us > terms.terms.limit_they_owe:
        raise await steps.over_limit(
            tx,
            community_id,
            terms.terms.commodity,
            f"{link.partner.name} would owe this community",
            owed=owed_to_us,
            limit=terms.terms.limit_they_owe,
        )
    spec = NewEntry(
        postings=(
            steps.moves(clearing, received, raise_balance=False),
            steps.moves(payee, received, raise_balance=True),
        ),
        description=offer.description,
        kind=TRANSFER_KIND,
        metadata=steps.metadata(offer.transfer_id, link, TransferRole.PAYEE),
    )
    rules.check_entry(spec)
    entry = await write_checked_entry(tx.repo, community_id, spec, lambda: now)
    await steps.journal(
        tx,
        community_id,
        link,
        transfer_id=offer.transfer_id,
        the_quote=offer.quote,
        now=now,
        payer_here=False,
    )
    return _payee_record(community_id, offer, now, entry_id=entry.id)


def _payee_record(
    community_id: uuid.UUID,
    offer: Offer,
    now: datetime,
    *,
    entry_id: uuid.UUID | None = None,
    refusal: kernel_errors.LedgerError | None = None,
) -> Transfer:
    return Transfer(
        community_id=community_id,
        id=offer.transfer_id,
        link_id=offer.link_id,
        role=TransferRole.PAYEE,
        state=TransferState.COMMITTED if refusal is None else TransferState.REJECTED,
        member_id=offer.payee_member_id,
        partner_member_id=offer.payer_member_id,
        quote=offer.quote,
        expires_at=offer.expires_at,
        entry_id=entry_id,
        reason=None if refusal is None else refusal.code,
        detail=None if refusal is None else refusal.detail,
        description=offer.description,
        created_at=now,
        updated_at=now,
    )


async def decide(tx: FedTx, community_id: uuid.UUID, offer: Offer, now: datetime) -> Transfer:
    """Step 2 at the payee's community (see the module): the recorded outcome, final. A refusal
    is recorded as ``rejected`` with its code; nothing else is written then. The caller runs it
    in a savepoint-free transaction of its own, or rolls back everything on a refusal (one
    install)."""
    known = await tx.store.get_transfer(community_id, offer.transfer_id, lock=True)
    if known is not None:
        return known
    try:
        transfer = await _accept(tx, community_id, offer, now)
    except kernel_errors.LedgerError as refusal:
        transfer = _payee_record(community_id, offer, now, refusal=refusal)
    await tx.store.insert_transfer(transfer)
    return transfer


async def payee_state(
    tx: FedTx,
    community_id: uuid.UUID,
    *,
    link_id: uuid.UUID,
    transfer_id: uuid.UUID,
    expires_at: datetime,
    now: datetime,
) -> Transfer | None:
    """The payee side's answer to "what became of this transfer?": its record; for a transfer
    it never saw, once its deadline (less the skew margin) has passed, a recorded tombstone
    ``rejected: quote_expired`` — so a late prepare can never commit; else None (undecided)."""
    known = await tx.store.get_transfer(community_id, transfer_id, lock=True)
    if known is not None or now < expires_at - SKEW_MARGIN:
        return known
    tombstone = Transfer(
        community_id=community_id,
        id=transfer_id,
        link_id=link_id,
        role=TransferRole.PAYEE,
        state=TransferState.REJECTED,
        member_id=None,
        partner_member_id=None,
        quote=None,
        expires_at=expires_at,
        entry_id=None,
        reason=errors.QuoteExpired.code,
        detail=f"transfer {transfer_id} was not seen before it expired at {expires_at}",
        description="",
        created_at=now,
        updated_at=now,
    )
    await tx.store.insert_transfer(tombstone)
    return tombstone


async def settle(
    tx: FedTx, community_id: uuid.UUID, outcome: Outcome, now: datetime, *, seq: int | None = None
) -> Transfer:
    """Step 3 at the payer's community: posts (committed) or voids (rejected) P's pending entry
    once; a settled transfer answers its state. ``seq``: the movement's place in the journal
    order the link's proposer gave, when the payee side is the proposer on another node."""
    if outcome.state is TransferState.PREPARED:
        raise kernel_errors.InvalidInput("an outcome is committed or rejected")
    transfer = await tx.store.get_transfer(community_id, outcome.transfer_id, lock=True)
    if transfer is None or transfer.role is not TransferRole.PAYER:
        raise errors.TransferNotFound(f"transfer {outcome.transfer_id} does not exist")
    if transfer.state is not TransferState.PREPARED:
        return transfer
    assert transfer.entry_id is not None and transfer.quote is not None
    clock = lambda: now  # noqa: E731 - the step's one instant
    if outcome.state is TransferState.COMMITTED:
        link = await steps.link_of(tx, community_id, transfer.link_id)
        await complete_pending(tx.repo, community_id, transfer.entry_id, EntryStatus.POSTED, clock)
        await steps.journal(
            tx,
            community_id,
            link,
            transfer_id=transfer.id,
            the_quote=transfer.quote,
            now=now,
            payer_here=True,
            seq=seq,
        )
    else:
        await complete_pending(tx.repo, community_id, transfer.entry_id, EntryStatus.VOIDED, clock)
    settled = replace(
        transfer,
        state=outcome.state,
        reason=outcome.reason,
        detail=outcome.detail,
        updated_at=now,
    )
    await tx.store.update_transfer(settled)
    return settled
