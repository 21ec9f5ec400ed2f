"""Reconciling a link whose partner is on another node: this side's journal against the
partner's, fetched page by page with signed ``journal`` queries, compared by
``ledger.federation.journal.reconcile`` exactly as on one install."""

from __future__ import annotations

import uuid

import msgspec

from ledger.federation import errors
from ledger.federation.courier import Courier
from ledger.federation.journal import Movement, Reconciliation, reconcile
from ledger.federation.ports import FederationTransactions
from ledger.federation.remote import JOURNAL_PAGE, JOURNAL_STEP
from ledger.federation.transfers import journal_of
from ledger.kernel import errors as kernel_errors


class RemoteReconciliation:
    def __init__(self, transactions: FederationTransactions, courier: Courier) -> None:
        self._transactions = transactions
        self._courier = courier

    async def reconcile(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Reconciliation:
        async with self._transactions.read() as tx:
            link = await tx.store.get_link(community_id, link_id)
            if link is None:
                raise errors.LinkNotFound(f"link {link_id} does not exist")
            if link.partner.node_url is None:
                raise errors.PartnerNotFound(f"the partner of link {link_id} is on this install")
            ours = await journal_of(tx, community_id, link_id)
        theirs = await self._partner_journal(link_id)
        return reconcile(link_id, link.proposed_here, ours, theirs)

    async def _partner_journal(self, link_id: uuid.UUID) -> list[Movement]:
        found: list[Movement] = []
        while True:
            body = {"after_seq": len(found), "limit": JOURNAL_PAGE}
            answer = await self._courier.ask(link_id, JOURNAL_STEP, body, link_id)
            try:
                page = msgspec.convert(answer.body["movements"], list[Movement])
            except (KeyError, msgspec.ValidationError) as exc:
                raise kernel_errors.InvalidInput(
                    f"the partner's journal is malformed: {exc}"
                ) from None
            found.extend(page)
            if len(page) < JOURNAL_PAGE:
                return found
