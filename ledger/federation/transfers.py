"""Cross transfers between two communities of this install, and reconciliation of a link.

On one install the three protocol steps (``ledger.federation.protocol``) run in one
transaction: the transfer is posted on both books at once or not at all, and a refusal by
either side rolls everything back and answers its error — nothing is written.

Audit operations: ``federation_transfer`` (payer's side), ``receive_federation_transfer``
(payee's side).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from ledger.audit import chain as audit
from ledger.books.envelope import Done
from ledger.federation import errors, protocol, routing
from ledger.federation.journal import (
    CheckpointCheck,
    Movement,
    Reconciliation,
    reconcile,
)
from ledger.federation.model import (
    Link,
    Outcome,
    Transfer,
    TransferRequest,
    TransferState,
)
from ledger.federation.ports import FederationTransactions, FedTx
from ledger.kernel import errors as kernel_errors
from ledger.kernel.inputs import check_page_size
from ledger.kernel.model import IdempotencyKey

_PAGE = 500


@dataclass(frozen=True, slots=True)
class LinkReconciliation:
    """A link's two journals compared (``journal``), and this side's books against its
    journal: each clearing account's posted balance (``books``) equals what the journal says
    this community owes the partner, per commodity (``books_agree``)."""

    link_id: uuid.UUID
    journal: Reconciliation
    books: dict[str, int]
    books_agree: bool
    checkpoint: CheckpointCheck | None = None
    """Between installs: the two sides' signed checkpoints compared at their latest common seq."""
    held: int = 0
    """Between installs: movements posted on this side that wait for their place in the link's
    journal order (``ledger.federation.sequencing``)."""

    @property
    def agrees(self) -> bool:
        return self.journal.agrees and (self.checkpoint is None or self.checkpoint.problem is None)


class Transfers:
    def __init__(self, transactions: FederationTransactions) -> None:
        self._transactions = transactions

    async def create(
        self,
        community_id: uuid.UUID,
        request: TransferRequest,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Transfer:
        """Pays from a member of this community to a member of the link's partner on this
        install: prepare, decide and settle in one transaction."""
        now = self._transactions.clock()

        async def work(tx: FedTx) -> Done[Transfer]:
            # A transfer id seen before answers its state and takes no effect now.
            known = await tx.store.get_transfer(community_id, request.transfer_id)
            run = _direct if request.destination is None else _routed
            payer = await run(tx, community_id, request, now)
            return Done(payer, "federation_transfer" if known is None else None)

        # The fingerprint leaves the transfer id out: a client retrying under its key gets its
        # first transfer back, whichever new id the retry was given.
        fingerprint = replace(request, transfer_id=uuid.UUID(int=0))
        return await self._transactions.write(
            community_id,
            "federation_transfer",
            fingerprint,
            idempotency_key,
            work=work,
            result_type=Transfer,
        )

    async def get(self, community_id: uuid.UUID, transfer_id: uuid.UUID) -> Transfer:
        async with self._transactions.read() as tx:
            found = await tx.store.get_transfer(community_id, transfer_id)
        if found is None:
            raise errors.TransferNotFound(f"transfer {transfer_id} does not exist")
        return found

    async def list_transfers(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None = None,
        limit: int = 50,
        member_id: uuid.UUID | None = None,
        link_id: uuid.UUID | None = None,
    ) -> Sequence[Transfer]:
        check_page_size(limit)
        async with self._transactions.read() as tx:
            return await tx.store.list_transfers(
                community_id, after=after, limit=limit, member_id=member_id, link_id=link_id
            )

    async def reconcile(self, community_id: uuid.UUID, link_id: uuid.UUID) -> LinkReconciliation:
        """The link's journals on both sides compared, and this side's clearing accounts
        against its journal (the partner must be on this install; between installs the peer
        part feeds :func:`ledger.federation.journal.reconcile` the partner's journal)."""
        async with self._transactions.read() as tx:
            link = await tx.store.get_link(community_id, link_id)
            if link is None:
                raise errors.LinkNotFound(f"link {link_id} does not exist")
            if link.partner.community_id is None:
                raise errors.PartnerNotFound(f"the partner of link {link_id} is on another node")
            ours = await journal_of(tx, community_id, link_id)
            theirs = await journal_of(tx, link.partner.community_id, link_id)
            books = await clearing_balances(tx, link)
        result = reconcile(link.id, link.proposed_here, ours, theirs)
        return LinkReconciliation(link.id, result, books, books_agree(books, result.ours.balances))


def _refuse(transfer: Transfer) -> None:
    """On one install a refusal anywhere rolls everything back and answers its error."""
    if transfer.state is TransferState.REJECTED:
        assert transfer.reason is not None
        raise kernel_errors.from_code(transfer.reason, transfer.detail or transfer.reason)


async def _audit(tx: FedTx, operation: str, transfer: Transfer, now: datetime) -> None:
    """A record (and events) of another side's part, in that side's own trail."""
    await tx.repo.append_audit(transfer.community_id, audit.event(operation, None, transfer, now))


async def _direct(
    tx: FedTx, community_id: uuid.UUID, request: TransferRequest, now: datetime
) -> Transfer:
    """Prepare at A, decide at B, settle at A: one link, one transaction."""
    link = await tx.store.get_link(community_id, request.link_id)
    if link is None:
        raise errors.LinkNotFound(f"link {request.link_id} does not exist")
    partner_id = link.partner.community_id
    if partner_id is None:
        raise errors.PartnerNotFound(
            f"the partner of link {link.id} lives on another node: its transfers go "
            "through the node's peer messages"
        )
    await _lock_rows(tx, {(community_id, link.id), (partner_id, link.id)})
    payer = await protocol.prepare(tx, community_id, request, now)
    if payer.state is not TransferState.PREPARED:
        return payer
    payee = await protocol.decide(tx, partner_id, protocol.offer_of(payer), now)
    _refuse(payee)
    # Both chains' heads in community order before the payee's record, which comes before the
    # payer's: the order group commit takes them in (``EntryBatches.post_across``).
    await tx.repo.lock_audit_heads([community_id, partner_id])
    await _audit(tx, "receive_federation_transfer", payee, now)
    return await protocol.settle(tx, community_id, Outcome(payer.id, payee.state), now)


async def _lock_route(
    tx: FedTx, community_id: uuid.UUID, request: TransferRequest
) -> tuple[uuid.UUID, uuid.UUID]:
    """The hub's and the payee's community ids; the four link rows of the route locked in
    (community, link) order, the order every writer of link rows follows."""
    assert request.destination is not None
    first = await tx.store.get_link(community_id, request.link_id)
    if first is None:
        raise errors.LinkNotFound(f"link {request.link_id} does not exist")
    hub_id = first.partner.community_id
    if hub_id is None:
        raise errors.PartnerNotFound(f"the hub of link {first.id} lives on another node")
    second = await routing.link_to(tx, hub_id, request.destination)
    payee_id = second.partner.community_id
    if payee_id is None or payee_id == community_id:
        raise errors.PartnerNotFound(f"no community {request.destination!r} beyond the hub here")
    await _lock_rows(
        tx,
        {(community_id, first.id), (hub_id, first.id), (hub_id, second.id), (payee_id, second.id)},
    )
    return hub_id, payee_id


async def _lock_rows(tx: FedTx, rows: set[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Locks link rows in (community, link) order, the order every writer of link rows follows
    (``links.both_sides`` too), so that no two writers deadlock."""
    for cid, link_id in sorted(rows):
        if not await tx.store.lock_link(cid, link_id):
            raise errors.NotParty(f"link {link_id} has no row at community {cid}")


async def _routed(
    tx: FedTx, community_id: uuid.UUID, request: TransferRequest, now: datetime
) -> Transfer:
    """Prepare at A, forward at the hub, decide at C, then settle back hop by hop."""
    hub_id, payee_id = await _lock_route(tx, community_id, request)
    payer = await protocol.prepare(tx, community_id, request, now)
    if payer.state is not TransferState.PREPARED:
        return payer
    offer = protocol.offer_of(payer)
    upstream = await routing.forward(tx, hub_id, offer, now)
    _refuse(upstream)
    downstream = await routing.downstream_of(tx, hub_id, upstream)
    payee = await protocol.decide(tx, payee_id, routing.offer_down(downstream, offer), now)
    _refuse(payee)
    await protocol.settle(tx, hub_id, Outcome(downstream.id, payee.state), now)
    upstream = await routing.conclude(
        tx, hub_id, upstream.id, Outcome(upstream.id, payee.state), now
    )
    await tx.repo.lock_audit_heads([community_id, hub_id, payee_id])  # as ``_direct`` does
    await _audit(tx, "forward_federation_transfer", upstream, now)
    await _audit(tx, "receive_federation_transfer", payee, now)
    return await protocol.settle(tx, community_id, Outcome(payer.id, payee.state), now)


async def journal_of(tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID) -> list[Movement]:
    """One side's whole journal of the link, in seq order."""
    found: list[Movement] = []
    while True:
        page = await tx.store.movements(community_id, link_id, after_seq=len(found), limit=_PAGE)
        found.extend(page)
        if len(page) < _PAGE:
            return found


async def clearing_balances(tx: FedTx, link: Link) -> dict[str, int]:
    """Posted balance of each of this side's clearing accounts of the link, per commodity."""
    balances: dict[str, int] = {}
    for version in link.versions:
        for terms in version.commodities:
            if terms.clearing_account_id is None or terms.commodity in balances:
                continue
            account = await tx.repo.get_account(link.community_id, terms.clearing_account_id)
            assert account is not None
            balances[terms.commodity] = account.balance.posted
    return balances


def books_agree(books: dict[str, int], balances: Mapping[str, int]) -> bool:
    """Each clearing account's posted balance is what the journal (with the movements held for
    their place in it) says this community owes."""
    return all(balances.get(code, 0) == amount for code, amount in books.items())


direct = _direct
"""Prepare, decide and settle one direct transfer in the caller's transaction (cross exchanges
move their hours by it)."""
lock_rows = _lock_rows
"""Locks link rows in (community, link) order (routing between installs locks by it too)."""
refuse = _refuse
"""Raises a recorded rejection as its error, rolling the caller's transaction back."""
