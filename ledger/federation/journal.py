"""A link's journal: the hash-chained movements of its cross transfers, kept on each side.

A movement is written in the transaction that posts a transfer on that side's books. It is
recorded in terms both sides share — whether it went from the link's proposer, the commodity and
amount sent (payer's units) and received (payee's units) — so that the two sides' movements, and
therefore their chain hashes, are identical when the books agree. Hashing follows the audit
chain (``ledger.audit.chain``): SHA-256 over the previous hash and a canonical msgspec encoding.

A checkpoint is ``(seq, balance per commodity, chain hash)``; :func:`reconcile` compares two
sides' journals movement by movement and answers "agrees up to N" or the first seq where they
differ, and checks that this side's balance is minus the partner's, in the partner's units.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import msgspec

from ledger.audit.chain import GENESIS_HASH
from ledger.kernel import errors

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Movement:
    link_id: uuid.UUID
    seq: int
    """1 for a link's first movement, then without gaps."""
    transfer_id: uuid.UUID
    from_proposer: bool
    """Whether the payer is the community that proposed the link."""
    commodity_sent: str
    amount_sent: int
    commodity_received: str
    amount_received: int
    prev_hash: str
    hash: str

    def paid_by(self, proposed_here: bool) -> bool:
        """Whether the side that did (or did not) propose the link paid this movement."""
        return self.from_proposer == proposed_here

    def signed(self, proposed_here: bool) -> tuple[str, int]:
        """This side's commodity and the change of what it owes the partner, in its units."""
        if self.paid_by(proposed_here):
            return self.commodity_sent, self.amount_sent
        return self.commodity_received, -self.amount_received

    def partner_signed(self, proposed_here: bool) -> tuple[str, int]:
        """The same movement in the partner's units, as the partner's change of what it owes."""
        return self.signed(not proposed_here)


def movement_hash(movement: Movement) -> str:
    canonical = _encoder.encode(
        [
            str(movement.link_id),
            movement.seq,
            str(movement.transfer_id),
            movement.from_proposer,
            movement.commodity_sent,
            movement.amount_sent,
            movement.commodity_received,
            movement.amount_received,
        ]
    )
    return hashlib.sha256(movement.prev_hash.encode() + canonical).hexdigest()


def chain_movement(
    head: tuple[int, str] | None,
    *,
    link_id: uuid.UUID,
    transfer_id: uuid.UUID,
    from_proposer: bool,
    sent: tuple[str, int],
    received: tuple[str, int],
) -> Movement:
    """The movement after ``head`` (the journal's last seq and hash; None when empty)."""
    seq, prev_hash = head or (0, GENESIS_HASH)
    unsealed = Movement(
        link_id=link_id,
        seq=seq + 1,
        transfer_id=transfer_id,
        from_proposer=from_proposer,
        commodity_sent=sent[0],
        amount_sent=sent[1],
        commodity_received=received[0],
        amount_received=received[1],
        prev_hash=prev_hash,
        hash="",
    )
    return replace(unsealed, hash=movement_hash(unsealed))


@dataclass(frozen=True, slots=True)
class Held:
    """A movement posted on this side that waits for its place in the link's journal order
    (``ledger.federation.sequencing``): ``seq`` None until the side that keeps the order gives
    it, or a seq whose predecessor has not arrived yet."""

    link_id: uuid.UUID
    transfer_id: uuid.UUID
    seq: int | None
    from_proposer: bool
    sent: tuple[str, int]
    received: tuple[str, int]

    def after(self, head: tuple[int, str] | None) -> Movement:
        return chain_movement(
            head,
            link_id=self.link_id,
            transfer_id=self.transfer_id,
            from_proposer=self.from_proposer,
            sent=self.sent,
            received=self.received,
        )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    link_id: uuid.UUID
    seq: int
    hash: str
    balances: Mapping[str, int]
    """Per commodity of this side: what this community owes the partner (negative: is owed)."""
    partner_balances: Mapping[str, int]
    """What the partner owes this community, per partner commodity in the partner's units, as
    this side's journal tells it: this side's balance converted is minus these."""


@dataclass(frozen=True, slots=True)
class Exchanged:
    """A checkpoint exchanged with the partner node and kept: this side's, the partner's chain
    hash and signed checkpoint (a JWS that can be verified again with the partner's key), and
    whether the two agreed."""

    ours: Checkpoint
    partner_hash: str
    partner_signed: str
    agrees: bool
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class CheckpointCheck:
    """The latest checkpoints of both sides compared at one seq."""

    seq: int
    same_chain: bool
    """Both sides' chain hashes at ``seq`` are the same."""
    mirror: bool
    """This side's balance is minus the partner's, in the partner's units, and the reverse:
    what each side's journal says the other owes is what the other says it owes."""
    problem: str | None
    """Which checkpoint does not match, and how (None: they agree)."""


class CheckpointBuilder:
    """Folds one side's movements, in order, into a checkpoint; checks the chain as it goes."""

    def __init__(self, link_id: uuid.UUID, proposed_here: bool) -> None:
        self.link_id = link_id
        self.proposed_here = proposed_here
        self.seq = 0
        self.hash = GENESIS_HASH
        self.balances: dict[str, int] = {}
        self.partner_balances: dict[str, int] = {}
        self.broken: str | None = None

    @classmethod
    def starting_at(cls, checkpoint: Checkpoint, proposed_here: bool) -> CheckpointBuilder:
        """A builder that goes on from ``checkpoint`` (this side's, or the partner's mirror)."""
        builder = cls(checkpoint.link_id, proposed_here)
        builder.seq, builder.hash = checkpoint.seq, checkpoint.hash
        builder.balances = dict(checkpoint.balances)
        builder.partner_balances = dict(checkpoint.partner_balances)
        return builder

    def feed(self, movement: Movement) -> bool:
        """Adds ``movement``; False (and ``broken`` says why) when it does not follow."""
        if self.broken is not None:
            return False
        if movement.seq != self.seq + 1:
            self.broken = f"movement {self.seq + 1} is missing"
        elif movement.prev_hash != self.hash or movement_hash(movement) != movement.hash:
            self.broken = f"movement {movement.seq} does not match its hash chain"
        if self.broken is not None:
            return False
        for balances, (code, amount) in (
            (self.balances, movement.signed(self.proposed_here)),
            (self.partner_balances, movement.partner_signed(self.proposed_here)),
        ):
            balances[code] = balances.get(code, 0) + amount
        self.seq, self.hash = movement.seq, movement.hash
        return True

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            self.link_id, self.seq, self.hash, dict(self.balances), dict(self.partner_balances)
        )


def checkpoint_of(
    link_id: uuid.UUID, proposed_here: bool, movements: Iterable[Movement]
) -> Checkpoint:
    """One side's checkpoint after ``movements`` (``invalid_input`` if its chain is broken)."""
    builder = CheckpointBuilder(link_id, proposed_here)
    for movement in movements:
        if not builder.feed(movement):
            raise errors.InvalidInput(f"the journal of link {link_id} is broken: {builder.broken}")
    return builder.checkpoint()


def mirrored(checkpoint: Checkpoint) -> Checkpoint:
    """The partner's checkpoint as this side's journal tells it (balances swapped)."""
    return replace(
        checkpoint, balances=checkpoint.partner_balances, partner_balances=checkpoint.balances
    )


def checkpoints_agree(ours: Checkpoint, theirs: Checkpoint) -> bool:
    """Whether two sides' checkpoints at the same seq tell the same journal: the same chain
    hash, and what this side's journal says the partner owes is what the partner's says. When
    they do not agree (or their seqs differ), :func:`reconcile` on the journals names where."""
    return (
        ours.link_id == theirs.link_id
        and ours.seq == theirs.seq
        and ours.hash == theirs.hash
        and _nonzero(ours.partner_balances) == _nonzero(theirs.balances)
        and _nonzero(theirs.partner_balances) == _nonzero(ours.balances)
    )


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Two sides' journals compared: they agree up to ``agrees_up_to``; ``first_difference`` is
    the seq where they part (None when they agree throughout), ``reason`` says how."""

    agrees_up_to: int
    first_difference: int | None
    reason: str | None
    ours: Checkpoint
    theirs: Checkpoint

    @property
    def agrees(self) -> bool:
        return self.first_difference is None


def _same(ours: Movement, theirs: Movement) -> bool:
    return ours.hash == theirs.hash and ours.transfer_id == theirs.transfer_id


def reconcile(
    link_id: uuid.UUID,
    proposed_here: bool,
    ours: Iterable[Movement],
    theirs: Iterable[Movement],
    start: Checkpoint | None = None,
) -> Reconciliation:
    """Compares this side's journal with the partner's, both in seq order: each must be an
    unbroken chain, and the two must hold the same movements. From ``start`` (a checkpoint both
    sides agreed, this side's view) on, only the movements after it are given and compared."""
    mine = CheckpointBuilder(link_id, proposed_here)
    partner = CheckpointBuilder(link_id, not proposed_here)
    if start is not None:
        mine = CheckpointBuilder.starting_at(start, proposed_here)
        partner = CheckpointBuilder.starting_at(mirrored(start), not proposed_here)
    ours_left, theirs_left = iter(ours), iter(theirs)
    reason: str | None = None
    agreed = mine.seq
    while reason is None:
        a, b = next(ours_left, None), next(theirs_left, None)
        if a is None and b is None:
            break
        if a is None:
            reason = "the partner's journal has movements this side lacks"
        elif b is None:
            reason = "this side's journal has movements the partner lacks"
        elif not mine.feed(a):
            reason = f"this side's journal: {mine.broken}"
        elif not partner.feed(b):
            reason = f"the partner's journal: {partner.broken}"
        elif a.hash != b.hash:
            reason = "the two sides recorded different movements"
        else:
            agreed = a.seq
    if reason is None and _nonzero(mine.partner_balances) != _nonzero(partner.balances):
        reason = "the balances are not each other's mirror"  # pragma: no cover - same chain
    first = None if reason is None else agreed + 1
    return Reconciliation(agreed, first, reason, mine.checkpoint(), partner.checkpoint())


def _nonzero(balances: Mapping[str, int]) -> dict[str, int]:
    return {code: amount for code, amount in balances.items() if amount}
