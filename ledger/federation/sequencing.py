"""A link's journal order: one side of the link keeps it.

On one install both sides' journals are appended in one transaction, so they are alike by
construction. Between installs each side posts a transfer in its own transaction, and two
transfers in opposite directions posted at the same moment could be appended in different
orders on the two sides. So the **link's proposer keeps the order** (fixed when the link is
made and known to both sides, ``Link.proposed_here``): it appends every movement of the link at
its next seq in the transaction that posts it. The other side appends a movement only at the seq
the proposer gave it, in seq order:

- a transfer it paid (the proposer was the payee): the proposer's answer to ``prepare``
  carries the movement's seq;
- a transfer it was paid (the proposer paid): the proposer sends a ``sequence`` message with
  the seq once it has settled (``ledger.federation.remote``).

A movement posted before its seq is known, or whose predecessor has not arrived yet, is
**held** (``federation_journal_held``) and enters the journal as soon as its predecessor has.
The books never wait for the journal: the entry is posted at once, only its movement waits.
docs/federation.md, "One order for a link's journal", says why the proposer.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from ledger.federation.journal import Held, Movement
from ledger.federation.model import Link
from ledger.federation.ports import FedTx
from ledger.kernel import errors


class JournalOrderConflict(errors.InvalidInput):
    """The seq given for a movement is another movement's, or contradicts the one it has
    (``invalid_input``: the partner node sent what cannot be)."""


def keeps_order(link: Link) -> bool:
    """Whether this side numbers the link's movements: on one install both do (in one
    transaction), between installs the proposer's side alone."""
    return link.partner.node_url is None or link.proposed_here


async def record(
    tx: FedTx,
    community_id: uuid.UUID,
    link: Link,
    *,
    transfer_id: uuid.UUID,
    from_proposer: bool,
    sent: tuple[str, int],
    received: tuple[str, int],
    now: datetime,
    seq: int | None = None,
) -> Movement | None:
    """Puts a posted transfer's movement in this side's journal (its link row locked): at the
    next seq where this side keeps the order; else at ``seq`` (None: not known yet), held until
    its predecessor is in. The movement appended, or None when it is held."""
    held = Held(link.id, transfer_id, None, from_proposer, sent, received)
    if keeps_order(link):
        movement = held.after(await tx.store.journal_head(community_id, link.id))
        await tx.store.append_movement(community_id, movement, now)
        return movement
    if seq is not None:
        await _check_free(tx, community_id, link.id, seq, transfer_id)
    await tx.store.hold(community_id, replace(held, seq=seq), now)
    return await _drain(tx, community_id, link.id, transfer_id, now)


async def place(
    tx: FedTx,
    community_id: uuid.UUID,
    link: Link,
    transfer_id: uuid.UUID,
    *,
    seq: int,
    now: datetime,
) -> None:
    """The seq the link's proposer gave a movement this side holds (``sequence`` message);
    given again, nothing changes."""
    if type(seq) is not int or seq < 1:
        raise errors.InvalidInput("a movement's seq is a whole number from 1")
    placed = await tx.store.journal_seq(community_id, link.id, transfer_id)
    if placed is not None:
        if placed != seq:
            raise JournalOrderConflict(
                f"transfer {transfer_id} is movement {placed} of this side's journal, not {seq}"
            )
        return
    held = await tx.store.held(community_id, link.id, transfer_id=transfer_id)
    if held is None:
        raise errors.InvalidInput(f"no movement of transfer {transfer_id} waits for its place")
    if held.seq is not None and held.seq != seq:
        raise JournalOrderConflict(f"transfer {transfer_id} was given seq {held.seq}, not {seq}")
    await _check_free(tx, community_id, link.id, seq, transfer_id)
    await tx.store.give_seq(community_id, link.id, transfer_id, seq)
    await _drain(tx, community_id, link.id, transfer_id, now)


async def _check_free(
    tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID, seq: int, transfer_id: uuid.UUID
) -> None:
    head = await tx.store.journal_head(community_id, link_id)
    other = await tx.store.held(community_id, link_id, seq=seq)
    if (head is not None and seq <= head[0]) or (
        other is not None and other.transfer_id != transfer_id
    ):
        raise JournalOrderConflict(f"seq {seq} of link {link_id} is another movement's")


async def _drain(
    tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID, transfer_id: uuid.UUID, now: datetime
) -> Movement | None:
    """Appends the held movements that come next, in seq order; the movement of
    ``transfer_id`` if it was among them."""
    found = None
    while True:
        head = await tx.store.journal_head(community_id, link_id)
        following = await tx.store.held(community_id, link_id, seq=(head or (0, ""))[0] + 1)
        if following is None:
            return found
        movement = following.after(head)
        await tx.store.append_movement(community_id, movement, now)
        await tx.store.release(community_id, link_id, following.transfer_id)
        if movement.transfer_id == transfer_id:
            found = movement
