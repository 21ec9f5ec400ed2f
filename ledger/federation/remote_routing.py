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
from ledger.federation import protocol, routing, steps
from ledger.federation.model import Link, Offer, Outcome, Transfer, TransferState
from ledger.federation.ports import FedTx

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


async def conclude(tx: FedTx, hop: Transfer, now: datetime) -> Transfer | None:
    """Once the hub settled ``hop`` on its payee's word: the upstream hop it forwarded, answered
    with that word (None when ``hop`` was not forwarded). Answered before: its state."""
    if hop.upstream_id is None or hop.state is TransferState.PREPARED:
        return None
    outcome = Outcome(hop.upstream_id, hop.state, hop.reason, hop.detail)
    upstream = await routing.conclude(tx, hop.community_id, hop.upstream_id, outcome, now)
    if upstream.updated_at == now:
        await _audit(tx, "forward_federation_transfer", upstream, now)
    return upstream


async def _audit(tx: FedTx, operation: str, transfer: Transfer, now: datetime) -> None:
    await tx.repo.append_audit(transfer.community_id, audit.event(operation, None, transfer, now))
