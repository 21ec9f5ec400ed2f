"""Signed checkpoints of a link's journal: ``(seq, chain hash, balance per commodity)`` of one
side, signed by its node, exchanged with the partner node at an interval and on demand, and kept
on both sides (``federation_checkpoints``) with the partner's signature, so that either side can
show later what the other vouched for.

A checkpoint is a peer message of its own (``messages.sign``, step ``checkpoint.signed``)
carried inside the ``checkpoint`` query and its answer: it can be stored and verified again
with the partner's key, apart from the exchange that brought it.

This side's checkpoint at a seq is computed from the latest checkpoint kept at or before it and
the movements after it alone; the kept one must still match the journal (its chain hash is the
journal's at that seq), or the journal is named as changed since.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import msgspec

from ledger.federation.identity import NodeKey
from ledger.federation.journal import Checkpoint, CheckpointBuilder
from ledger.federation.messages import LinkPeer, PeerMessage, PeerUnauthenticated, sign, verify_with
from ledger.federation.model import Link
from ledger.federation.ports import FedTx

SIGNED_STEP: Final = "checkpoint.signed"
_PAGE: Final = 500


class _Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seq: int
    hash: str
    balances: dict[str, int]
    """What the signing side owes the other, per commodity, in its units."""
    partner_balances: dict[str, int]
    """What the other side owes, as the signing side's journal tells it, in the other's units."""


def sign_checkpoint(
    checkpoint: Checkpoint, key: NodeKey, *, sender: str, recipient: str, now: datetime
) -> str:
    """This side's checkpoint, signed by this node (a compact JWS)."""
    body = _Body(
        checkpoint.seq,
        checkpoint.hash,
        dict(checkpoint.balances),
        dict(checkpoint.partner_balances),
    )
    message = PeerMessage(
        link_id=checkpoint.link_id,
        transfer_id=uuid.uuid5(checkpoint.link_id, f"checkpoint:{checkpoint.seq}"),
        step=SIGNED_STEP,
        sent_at=now,
        sender=sender,
        recipient=recipient,
        body=msgspec.to_builtins(body),
    )
    return sign(message, key)


def open_checkpoint(token: Any, peer: LinkPeer) -> Checkpoint:
    """The partner's checkpoint if one of its keys bound to the link signed it for this link
    (``peer_unauthenticated`` naming it otherwise: a changed checkpoint does not verify)."""
    if not isinstance(token, str):
        raise PeerUnauthenticated("the partner's checkpoint is missing")
    for key in peer.keys:
        try:
            message = verify_with(token, key)
        except PeerUnauthenticated:
            continue
        if (
            message.step != SIGNED_STEP
            or message.link_id != peer.link_id
            or message.sender.rstrip("/") != peer.peer_url.rstrip("/")
        ):
            break
        try:
            body = msgspec.convert(message.body, _Body)
        except msgspec.ValidationError:
            break
        return Checkpoint(peer.link_id, body.seq, body.hash, body.balances, body.partner_balances)
    raise PeerUnauthenticated(
        "the partner's checkpoint does not verify: not signed by its key for this link, or "
        "changed since it was signed"
    )


@dataclass(frozen=True, slots=True)
class Own:
    """This side's checkpoint at a seq, or why its journal cannot give one (``broken``)."""

    checkpoint: Checkpoint
    head: int
    """This side's journal's last seq."""
    broken: str | None = None


async def own_checkpoint(
    tx: FedTx, community_id: uuid.UUID, link: Link, upto: int | None = None
) -> Own:
    """This side's checkpoint at ``upto`` (its journal's head if None or beyond it), from the
    latest kept checkpoint at or before it and only the movements after that one."""
    head = await tx.store.journal_head(community_id, link.id)
    last = 0 if head is None else head[0]
    seq = last if upto is None else min(upto, last)
    builder = CheckpointBuilder(link.id, link.proposed_here)
    for kept in await tx.store.checkpoints(community_id, link.id, upto=seq):
        at = await tx.store.movements(community_id, link.id, after_seq=kept.ours.seq - 1, limit=1)
        if not at or at[0].seq != kept.ours.seq or at[0].hash != kept.ours.hash:
            broken = (
                f"this side's journal no longer matches its checkpoint at seq {kept.ours.seq} "
                "(changed since that checkpoint was exchanged)"
            )
            return Own(builder.checkpoint(), last, broken)
        builder = CheckpointBuilder.starting_at(kept.ours, link.proposed_here)
        break
    while builder.seq < seq:
        page = await tx.store.movements(
            community_id, link.id, after_seq=builder.seq, limit=min(_PAGE, seq - builder.seq)
        )
        if not page:
            break
        for movement in page:
            if not builder.feed(movement):
                return Own(builder.checkpoint(), last, f"this side's journal: {builder.broken}")
    return Own(builder.checkpoint(), last)
