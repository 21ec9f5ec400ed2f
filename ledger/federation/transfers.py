"""Cross transfers between two communities of this install, and reconciliation of a link.

On one install the three protocol steps (``ledger.federation.protocol``) run in one
transaction: the transfer is posted on both books at once or not at all, and a refusal by
either side rolls everything back and answers its error — nothing is written.

Audit operations: ``federation_transfer`` (payer's side), ``receive_federation_transfer``
(payee's side).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ledger.audit import chain as audit
from ledger.books.envelope import Done
from ledger.federation import errors, protocol
from ledger.federation.journal import Checkpoint, Movement, Reconciliation, reconcile
from ledger.federation.links import both_sides
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
            link, partner = await both_sides(tx, community_id, request.link_id)
            if partner is None:
                raise errors.PartnerNotFound(
                    f"the partner of link {link.id} lives on another node: its transfers go "
                    "through the node's peer messages"
                )
            payer = await protocol.prepare(tx, community_id, request, now)
            if payer.state is not TransferState.PREPARED:
                return Done(payer, None)
            payee = await protocol.decide(tx, partner.community_id, protocol.offer_of(payer), now)
            if payee.state is TransferState.REJECTED:
                assert payee.reason is not None
                raise kernel_errors.from_code(payee.reason, payee.detail or payee.reason)
            payer = await protocol.settle(tx, community_id, Outcome(payer.id, payee.state), now)
            event = audit.event("receive_federation_transfer", None, payee, now)
            await tx.repo.append_audit(partner.community_id, event)
            return Done(payer, "federation_transfer")

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
        return LinkReconciliation(link.id, result, books, _agree(books, result.ours))


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


def _agree(books: dict[str, int], checkpoint: Checkpoint) -> bool:
    return all(checkpoint.balances.get(code, 0) == amount for code, amount in books.items())
