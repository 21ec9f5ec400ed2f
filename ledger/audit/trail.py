"""Reading and verifying a community's audit trail (the records are written by ``Ledger``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ledger.audit.chain import AuditRecord, BrokenLink, ChainVerifier
from ledger.audit.ports import AuditRepository
from ledger.kernel import errors
from ledger.kernel.uow import UnitOfWorkFactory

VERIFY_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Verification:
    records: int
    """How many records were checked before the first broken link (all, when intact)."""
    broken: BrokenLink | None


class AuditTrail:
    def __init__(self, uow: UnitOfWorkFactory[AuditRepository]) -> None:
        self._uow = uow

    async def records(
        self, community_id: uuid.UUID, *, after_seq: int = 0, limit: int = 50
    ) -> list[AuditRecord]:
        """Records in chain order, ``limit`` after record ``after_seq``."""
        if type(limit) is not int or not 1 <= limit <= VERIFY_PAGE_SIZE:
            raise errors.InvalidInput(f"limit must be from 1 to {VERIFY_PAGE_SIZE}")
        async with self._uow(write=False) as uow:
            return list(await uow.repo.list_audit(community_id, after_seq=after_seq, limit=limit))

    async def verify(self, community_id: uuid.UUID) -> Verification:
        """Walks the whole chain in one snapshot and names its first broken link, if any."""
        verifier = ChainVerifier()
        async with self._uow(write=False) as uow:
            after = 0
            while verifier.broken is None:
                page = await uow.repo.list_audit(
                    community_id, after_seq=after, limit=VERIFY_PAGE_SIZE
                )
                for record in page:
                    verifier.feed(record)
                if len(page) < VERIFY_PAGE_SIZE:
                    break
                after = page[-1].seq
            head = await uow.repo.audit_head(community_id)
        return Verification(verifier.checked, verifier.finish(head))
