"""A partner node gone for good: what its partner's operator may do with the transfers left in
flight, and only that (``commons-ledger federation abandon-peer``; docs/federation.md, "A
partner gone for good").

Only the payee's side ends a transfer, so a payer side whose partner never answers keeps its
holds pending for ever — the price of never voiding on its own clock. What makes a way out safe:

- **The payee side holds nothing.** It posts or refuses at once, so on that side nothing is in
  flight; abandoning there only closes the link and ends the messages to the partner.
- **After a hold's expiry the payee can commit nothing it had not committed.** It refuses from
  ``expires_at - SKEW_MARGIN`` on by its own clock, and a later query records a tombstone. So
  the command refuses while any hold has not expired: until then the payee may still decide.
- **What the payee committed before the deadline this side cannot know** (its answer is what
  never came). The partner's stewards can: from its books, its last backup, or its journal.
  On their written confirmation this side posts the transfers they name as posted by the
  partner and voids the others — the protocol's rule (void only what the payee never
  committed), with the payee's word given by its stewards instead of its node.

In one transaction: every in-flight transfer settled (``protocol.settle``, which posts or voids
the hold and journals a commitment), this side's link closed (nothing crosses again), the
link's unanswered peer messages ended, and the confirmation audited. A dry run changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ledger.audit import chain as audit
from ledger.books.envelope import Done, WriteEnvelope
from ledger.books.ports import UnitOfWork, UnitOfWorkFactory
from ledger.federation import errors, protocol, sides
from ledger.federation.model import (
    Link,
    LinkStatus,
    Outcome,
    Transfer,
    TransferRole,
    TransferState,
)
from ledger.federation.peer_store import PeerStoreOf
from ledger.federation.ports import FederationTransactions, FedTx
from ledger.federation.remote import announce_seq
from ledger.kernel import errors as kernel_errors
from ledger.kernel.clock import Clock

ABANDONED: Final = "peer_abandoned"
"""The reason recorded on a transfer voided because its partner node was abandoned."""
_PAGE: Final = 500


class HoldsOpen(kernel_errors.LedgerError):
    """A hold on the link has not expired: the partner may still decide it."""

    code = "holds_not_expired"


@dataclass(frozen=True, slots=True)
class Abandonment:
    """What abandoning the partner of a link does, or did."""

    link_id: uuid.UUID
    partner: str
    in_flight: tuple[Transfer, ...]
    """This side's transfers the partner never answered, each with its state once settled."""
    confirmation: str | None
    """The stewards' confirmation (None: a dry run, nothing changed)."""
    messages_ended: int = 0


State = TransferState


def _in_flight(found: Sequence[Transfer], link_id: uuid.UUID) -> list[Transfer]:
    return [
        t
        for t in found
        if t.link_id == link_id and t.role is TransferRole.PAYER and t.state is State.PREPARED
    ]


class PeerAbandonment:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        transactions: FederationTransactions,
        peers: PeerStoreOf,
        clock: Clock,
    ) -> None:
        self._transactions = transactions
        self._peers = peers
        self._clock = clock
        self._envelope = WriteEnvelope(units, clock)

    async def plan(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Abandonment:
        """The dry run: the transfers in flight on the link (changes nothing)."""
        async with self._transactions.read() as tx:
            link = await _remote_link(tx, community_id, link_id, lock=False)
            held = await _held(tx, community_id, link_id)
        return Abandonment(link_id, link.partner.slug, tuple(held), None)

    async def abandon(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        *,
        confirmation: str,
        posted_by_partner: frozenset[uuid.UUID] = frozenset(),
    ) -> Abandonment:
        """Settles every transfer in flight — posted if the partner's stewards confirm their
        node posted it, voided otherwise — closes this side of the link and ends its messages.
        Refused while a hold has not expired, or naming a transfer not in flight."""
        if not confirmation.strip():
            raise kernel_errors.InvalidInput("say what the partner's stewards confirmed")
        now = self._clock()

        async def work(uow: UnitOfWork) -> Done[Abandonment]:
            tx = self._transactions.tx(uow)
            link = await _remote_link(tx, community_id, link_id)
            held = await _held(tx, community_id, link_id)
            _check(held, posted_by_partner, now)
            settled = []
            for transfer in held:
                outcome = _outcome(transfer, posted_by_partner, confirmation)
                done = await protocol.settle(tx, community_id, outcome, now)
                event = audit.event("settle_federation_transfer", None, done, now)
                await tx.repo.append_audit(community_id, event)
                settled.append(done)
            if link.status is not LinkStatus.CLOSED:
                await sides.change_status(tx, link, LinkStatus.CLOSED, by_here=True, now=now)
            peers = self._peers(uow)
            ended = await peers.end_messages(community_id, link_id, now)
            for done in settled:
                # After the old messages ended: should the partner come back after all, it
                # learns where this side's journal placed what both posted (the proposer's
                # order, ledger.federation.sequencing) and its journal agrees again.
                await announce_seq(tx, peers, done, now)
            result = Abandonment(link_id, link.partner.slug, tuple(settled), confirmation, ended)
            return Done(result, "abandon_peer")

        request = [str(link_id), confirmation, sorted(map(str, posted_by_partner))]
        return await self._envelope.decide(
            community_id, "abandon_peer", request, None, work=work, result_type=Abandonment
        )


async def _remote_link(
    tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID, *, lock: bool = True
) -> Link:
    """The link (``link_not_found``), its row locked unless read only, if its partner is on
    another node."""
    link = await tx.store.get_link(community_id, link_id, lock=lock)
    if link is None:
        raise errors.LinkNotFound(f"link {link_id} does not exist")
    if link.partner.node_url is None:
        raise errors.PartnerNotFound(
            f"the partner of link {link_id} is on this install: nothing waits for another node"
        )
    return link


async def _held(tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID) -> list[Transfer]:
    """This side's transfers on the link waiting for the partner's answer, oldest first."""
    held: list[Transfer] = []
    after: uuid.UUID | None = None
    while True:
        page = await tx.store.list_transfers(
            community_id, after=after, limit=_PAGE, link_id=link_id
        )
        held += _in_flight(page, link_id)
        if len(page) < _PAGE:
            return held
        after = page[-1].id


def _check(held: Sequence[Transfer], posted: frozenset[uuid.UUID], now: datetime) -> None:
    unknown = posted - {t.id for t in held}
    if unknown:
        raise kernel_errors.InvalidInput(
            f"not in flight on this link: {', '.join(sorted(map(str, unknown)))}"
        )
    open_until = max((t.expires_at for t in held if t.expires_at > now), default=None)
    if open_until is not None:
        raise HoldsOpen(
            f"a hold on this link expires only at {open_until.isoformat()}: until then the "
            "partner may still decide it; run this again after that"
        )


def _outcome(transfer: Transfer, posted: frozenset[uuid.UUID], confirmation: str) -> Outcome:
    if transfer.id in posted:
        return Outcome(transfer.id, State.COMMITTED)
    return Outcome(
        transfer.id,
        State.REJECTED,
        ABANDONED,
        f"voided by this side's operator, the partner node being gone for good: {confirmation}",
    )
