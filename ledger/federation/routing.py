"""Routing through a hub: A → H → C as two hops, each over its own link.

The hub H takes the upstream hop (over the link A–H) and forwards it downstream (over its link
to C) in one step, :func:`forward`: one pending entry at H lowers the clearing account standing
for A and raises the one standing for C, within H's limit on each link, and H's record of the
upstream hop stays undecided (``prepared``) while the downstream hop is out. The downstream
hop's hold **expires before the upstream one** (by the skew margin at least: ILP's telescoping
expiry), so H always learns C's final word while it may still answer A: when C decides, H
settles its downstream hop (``protocol.settle``) and then answers the upstream one with the same
outcome (:func:`conclude`), so H is never left holding the difference.

The downstream hop has an id of its own, derived from the transfer's (:func:`hop_id`), so each
community keeps one record per hop it takes part in, and the hub's record of it names the
upstream hop (``upstream_id``) that it answers. Between installs the hops are the direct
protocol's messages (``ledger.federation.remote_routing``).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from ledger.books import rules
from ledger.books.writes import write_checked_entry
from ledger.federation import errors, steps
from ledger.federation.model import (
    SKEW_MARGIN,
    Link,
    LinkStatus,
    Offer,
    Outcome,
    Transfer,
    TransferRole,
    TransferState,
)
from ledger.federation.ports import FedTx
from ledger.federation.protocol import TRANSFER_KIND, check_offer
from ledger.federation.terms import in_force
from ledger.kernel import errors as kernel_errors
from ledger.kernel.model import NewEntry

_LINKS_PAGE = 1000

HOP_MARGIN: Final = 2 * SKEW_MARGIN
"""How much sooner a forwarded hop's hold ends than the hop it was paid by (60 s), and the
least hold a forwarded hop gets. With clocks within ``SKEW_MARGIN`` (ε) of each other: the
payee of the downstream hop decides only before its deadline T2 less ε by its own clock, so its
word is final by T2 on the hub's clock at the latest (it decided, or its answer to the hub's
state query is the tombstone); the hub then needs one round trip (≤ ε: three answer timeouts)
to learn it and answer upstream, which is before T1 − ε, the moment a direct payee must have
decided by. So when every node is up, the payer hears the end within its own window, as in the
direct protocol. Safety does not rest on it: only the last payee decides, the hub answers the
upstream hop only with that word, and no payer voids on its own clock, so a late word only
keeps a hold longer (docs/federation.md, "Routing through a hub")."""


def hop_id(transfer_id: uuid.UUID, link_id: uuid.UUID) -> uuid.UUID:
    """The id of a transfer's hop over ``link_id`` beyond the first: the same at every node."""
    return uuid.uuid5(transfer_id, str(link_id))


async def link_to(tx: FedTx, community_id: uuid.UUID, partner_slug: str) -> Link:
    """The community's active link to ``partner_slug`` (``partner_not_found``)."""
    for link in await tx.store.list_links(community_id, after=None, limit=_LINKS_PAGE):
        if link.partner.slug == partner_slug and link.status is LinkStatus.ACTIVE:
            return link
    raise errors.PartnerNotFound(f"this community has no active link to {partner_slug!r}")


def offer_down(downstream: Transfer, upstream: Offer) -> Offer:
    """The offer the hub sends downstream for its prepared hop."""
    assert downstream.quote is not None and downstream.partner_member_id is not None
    return Offer(
        transfer_id=downstream.id,
        link_id=downstream.link_id,
        payer_member_id=upstream.payer_member_id,
        payee_member_id=downstream.partner_member_id,
        quote=downstream.quote,
        expires_at=downstream.expires_at,
        description=downstream.description,
    )


async def _reserve_through(tx: FedTx, hub_id: uuid.UUID, offer: Offer, now: datetime) -> Transfer:
    """The hub's pending entry across its two links, and its record of the downstream hop."""
    assert offer.destination is not None
    if now >= offer.expires_at - SKEW_MARGIN:
        raise errors.QuoteExpired(f"transfer {offer.transfer_id} expired at {offer.expires_at}")
    onward = await link_to(tx, hub_id, offer.destination)
    # Both rows locked in link id order, as every writer of two rows of one community does.
    locked = {
        link_id: await tx.store.get_link(hub_id, link_id, lock=True)
        for link_id in sorted({offer.link_id, onward.id})
    }
    up_link, down_link = locked[offer.link_id], locked[onward.id]
    if up_link is None or up_link.id == onward.id:
        raise errors.NotParty(f"this community is not party to link {offer.link_id}")
    assert down_link is not None
    up = in_force(up_link, offer.quote.commodity_received)
    check_offer(offer, up)
    down = in_force(down_link, up.terms.commodity)
    amount = offer.quote.amount_received
    quote = steps.quote(down, amount, offer.final_min_received)
    # Telescoping: the downstream hold ends a hop margin before the upstream one, at least.
    expires_at = min(now + _seconds(down.hold_window_s), offer.expires_at - HOP_MARGIN)
    if expires_at - now < HOP_MARGIN:
        raise errors.QuoteExpired(f"too little of transfer {offer.transfer_id}'s hold is left")
    from_up = await steps.locked_clearing(tx, hub_id, up)
    to_down = await steps.locked_clearing(tx, hub_id, down)
    if amount - from_up.balance.available > up.terms.limit_they_owe:
        raise errors.LinkLimitExceeded(f"{up_link.partner.slug} would owe this hub too much")
    if to_down.balance.ceiling + amount > down.terms.limit_we_owe:
        raise errors.LinkLimitExceeded(f"this hub would owe {down_link.partner.slug} too much")
    transfer_id = hop_id(offer.transfer_id, down_link.id)
    spec = NewEntry(
        postings=(
            steps.moves(from_up, amount, raise_balance=False),
            steps.moves(to_down, amount, raise_balance=True),
        ),
        description=offer.description,
        pending=True,
        kind=TRANSFER_KIND,
        metadata=steps.metadata(transfer_id, down_link, TransferRole.PAYER),
    )
    rules.check_entry(spec)
    entry = await write_checked_entry(tx.repo, hub_id, spec, lambda: now)
    downstream = Transfer(
        community_id=hub_id,
        id=transfer_id,
        link_id=down_link.id,
        role=TransferRole.PAYER,
        state=TransferState.PREPARED,
        member_id=None,
        partner_member_id=offer.payee_member_id,
        quote=quote,
        expires_at=expires_at,
        entry_id=entry.id,
        reason=None,
        detail=None,
        description=offer.description,
        created_at=now,
        updated_at=now,
        upstream_id=offer.transfer_id,
    )
    await tx.store.insert_transfer(downstream)
    return downstream


def _seconds(count: int) -> timedelta:
    return timedelta(seconds=count)


def _upstream(
    hub_id: uuid.UUID, offer: Offer, now: datetime, refusal: kernel_errors.LedgerError | None
) -> Transfer:
    return Transfer(
        community_id=hub_id,
        id=offer.transfer_id,
        link_id=offer.link_id,
        role=TransferRole.PAYEE,
        state=TransferState.PREPARED if refusal is None else TransferState.REJECTED,
        member_id=None,
        partner_member_id=offer.payer_member_id,
        quote=offer.quote,
        expires_at=offer.expires_at,
        entry_id=None,
        reason=None if refusal is None else refusal.code,
        detail=None if refusal is None else refusal.detail,
        description=offer.description,
        created_at=now,
        updated_at=now,
        destination=offer.destination,
    )


async def forward(tx: FedTx, hub_id: uuid.UUID, offer: Offer, now: datetime) -> Transfer:
    """At the hub, for an offer bound beyond it: the hub's record of the upstream hop —
    ``prepared`` while the downstream hop (prepared here too) is out, or ``rejected`` with the
    refusal, final, as :func:`ledger.federation.protocol.decide` records it. Seen before: its
    current state."""
    known = await tx.store.get_transfer(hub_id, offer.transfer_id, lock=True)
    if known is not None:
        return known
    try:
        downstream = await _reserve_through(tx, hub_id, offer, now)
    except kernel_errors.LedgerError as refusal:
        upstream = _upstream(hub_id, offer, now, refusal)
    else:
        upstream = replace(_upstream(hub_id, offer, now, None), entry_id=downstream.entry_id)
    await tx.store.insert_transfer(upstream)
    return upstream


async def downstream_of(tx: FedTx, hub_id: uuid.UUID, upstream: Transfer) -> Transfer:
    """The hub's record of the hop it forwarded ``upstream`` to."""
    assert upstream.destination is not None
    link = await link_to(tx, hub_id, upstream.destination)
    downstream = await tx.store.get_transfer(hub_id, hop_id(upstream.id, link.id))
    if downstream is None:
        raise errors.TransferNotFound(f"transfer {upstream.id} was not forwarded")
    return downstream


async def conclude(
    tx: FedTx, hub_id: uuid.UUID, transfer_id: uuid.UUID, outcome: Outcome, now: datetime
) -> Transfer:
    """The hub answers the upstream hop with the downstream hop's outcome, once it settled that
    hop (``protocol.settle``); a committed transfer is appended to the upstream link's
    journal. Answered before: its state."""
    upstream = await tx.store.get_transfer(hub_id, transfer_id, lock=True)
    if upstream is None or upstream.role is not TransferRole.PAYEE:
        raise errors.TransferNotFound(f"transfer {transfer_id} does not exist")
    if upstream.state is not TransferState.PREPARED:
        return upstream
    assert upstream.quote is not None
    if outcome.state is TransferState.COMMITTED:
        link = await steps.link_of(tx, hub_id, upstream.link_id)
        await steps.journal(
            tx,
            hub_id,
            link,
            transfer_id=upstream.id,
            the_quote=upstream.quote,
            now=now,
            payer_here=False,
        )
    concluded = replace(
        upstream, state=outcome.state, reason=outcome.reason, detail=outcome.detail, updated_at=now
    )
    await tx.store.update_transfer(concluded)
    return concluded
