"""Routing through a hub between installs: the hub's part (``ledger.federation.routing``) over the
peer protocol of direct transfers (``ledger.federation.remote``). Each hop is a direct transfer
between two nodes; the hub is the payee of the upstream hop and the payer of the downstream one.

- A ``prepare`` whose offer names a ``destination`` reaching the hub's node is forwarded
  (:func:`forward`): the hub's one pending entry across its two links and its record of the
  downstream hop, whose hold ends at least ``routing.HOP_MARGIN`` before the upstream one. If
  the destination lives on another node, the hop's own ``prepare`` enters the hub's peer outbox
  in the same transaction; if it lives on the hub's node, it decides at once, in that
  transaction.
- The hub answers the upstream ``prepare`` with its record of the upstream hop: ``unknown``
  while the downstream hop is out. A repeat of that prepare is answered from the record as it
  is then (``remote.RemoteTransfers`` gives the step ``again``), so the payer's node, asking
  again with backoff, hears the end; after its hold it asks for the state, answered the same.
- When the downstream payee's answer arrives, the hub settles its hop (``protocol.settle``, by
  the courier) and answers the upstream hop with the same outcome (:func:`conclude`), in one
  transaction. Only the last payee decides; the hub passes its word on and never decides a hop
  it forwarded on its own clock, so no node posts while another voids.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from ledger.audit import chain as audit
from ledger.federation import errors, protocol, routing, steps
from ledger.federation.model import (
    Link,
    Offer,
    Outcome,
    Transfer,
    TransferRequest,
    TransferState,
)
from ledger.federation.ports import FedTx
from ledger.federation.transfers import lock_rows, refuse

SendDown = Callable[[Link, Offer, datetime], Awaitable[None]]
"""Puts the downstream hop's ``prepare`` (the offer) for the link's partner node in this node's
peer outbox, in the caller's transaction."""


async def forward(
    tx: FedTx, hub_id: uuid.UUID, offer: Offer, now: datetime, send_down: SendDown
) -> Transfer:
    """At the hub, for a routed offer from another node: the hub's record of the upstream hop
    (``prepared`` while the downstream hop is out, or its outcome). Seen before: its state."""
    upstream = await routing.forward(tx, hub_id, offer, now)
    if upstream.created_at != now or upstream.state is not TransferState.PREPARED:
        if upstream.created_at == now:  # refused here: recorded, final, audited
            await _audit(tx, "forward_federation_transfer", upstream, now)
        return upstream
    await _audit(tx, "forward_federation_transfer", upstream, now)
    downstream = await routing.downstream_of(tx, hub_id, upstream)
    link = await steps.link_of(tx, hub_id, downstream.link_id)
    onward = routing.offer_down(downstream, offer)
    payee_id = link.partner.community_id
    if payee_id is None:
        await send_down(link, onward, now)
        return upstream
    # The destination lives on the hub's node: it decides now, as a payee node would.
    decided = await protocol.decide(tx, payee_id, onward, now)
    await _audit(tx, "receive_federation_transfer", decided, now)
    outcome = Outcome(downstream.id, decided.state, decided.reason, decided.detail)
    settled = await protocol.settle(tx, hub_id, outcome, now)
    concluded = await conclude(tx, settled, now)
    assert concluded is not None
    return concluded


async def leaves_node(tx: FedTx, hub_id: uuid.UUID, destination: str) -> bool:
    """Whether the hub's active link to ``destination`` goes to another node."""
    try:
        onward = await routing.link_to(tx, hub_id, destination)
    except errors.PartnerNotFound:
        return False  # the local path refuses it, under the request's idempotency key
    return onward.partner.node_url is not None


async def through_hub_here(
    tx: FedTx, payer_id: uuid.UUID, request: TransferRequest, now: datetime, send_down: SendDown
) -> Transfer:
    """At the payer's node when the hub is on it too and the destination on another node: the
    payer's prepare and the hub's forward in one transaction (a refusal by either rolls both
    back), the hub's hop to C in the outbox. The payer's record, ``prepared``; seen before, its
    state. The hub settles the payer when C's word arrives (:func:`conclude`)."""
    assert request.destination is not None
    first = await tx.store.get_link(payer_id, request.link_id)
    hub_id = None if first is None else first.partner.community_id
    if first is None or hub_id is None:
        raise errors.LinkNotFound(f"link {request.link_id} does not exist on this node")
    onward = await routing.link_to(tx, hub_id, request.destination)
    # In (community, link) order, as every writer of link rows on one install locks them.
    await lock_rows(tx, {(payer_id, first.id), (hub_id, first.id), (hub_id, onward.id)})
    payer = await protocol.prepare(tx, payer_id, request, now)
    if payer.created_at != now:
        return payer
    refuse(await forward(tx, hub_id, protocol.offer_of(payer), now, send_down))
    return payer


async def conclude(tx: FedTx, hop: Transfer, now: datetime) -> Transfer | None:
    """Once the hub settled ``hop`` on its payee's word: the upstream hop it forwarded, answered
    with that word (None when ``hop`` was not forwarded), and a payer on this node settled on
    it. Answered before: its state."""
    if hop.upstream_id is None or hop.state is TransferState.PREPARED:
        return None
    outcome = Outcome(hop.upstream_id, hop.state, hop.reason, hop.detail)
    upstream = await routing.conclude(tx, hop.community_id, hop.upstream_id, outcome, now)
    if upstream.updated_at != now:
        return upstream
    await _audit(tx, "forward_federation_transfer", upstream, now)
    payer_id = (await steps.link_of(tx, hop.community_id, upstream.link_id)).partner.community_id
    if payer_id is not None:  # the payer is on this node too
        settled = await protocol.settle(tx, payer_id, outcome, now)
        await _audit(tx, "settle_federation_transfer", settled, now)
    return upstream


async def lock_upstream(tx: FedTx, community_id: uuid.UUID, hop_id: uuid.UUID) -> None:
    """Before the hub settles a forwarded hop: the upstream hop's link rows (the hub's, and the
    payer's on this node), which a forward locks before the downstream one, so that settling
    and forwarding transfers in one direction never wait on each other in a circle."""
    hop = await tx.store.get_transfer(community_id, hop_id)
    if hop is None or hop.upstream_id is None:
        return
    upstream = await tx.store.get_transfer(community_id, hop.upstream_id)
    link = None if upstream is None else await tx.store.get_link(community_id, upstream.link_id)
    if link is None:
        return
    rows = {(community_id, link.id)}
    if link.partner.community_id is not None:
        rows.add((link.partner.community_id, link.id))
    await lock_rows(tx, rows)


async def _audit(tx: FedTx, operation: str, transfer: Transfer, now: datetime) -> None:
    await tx.repo.append_audit(transfer.community_id, audit.event(operation, None, transfer, now))
