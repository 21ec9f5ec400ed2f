"""What the audit trail needs from persistence, stated without SQL (``ledger.store.audit``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Protocol

from ledger.audit.chain import AuditEvent, AuditRecord


class AuditRepository(Protocol):
    async def append_audit(self, community_id: uuid.UUID, event: AuditEvent) -> None:
        """Chains ``event`` after the community's last record, in this unit of work."""
        ...

    async def append_audit_many(
        self, community_id: uuid.UUID, events: Sequence[AuditEvent]
    ) -> None:
        """Chains ``events`` in order after the community's last record, in this unit of work:
        the same records as one ``append_audit`` each, with the chain's head locked once."""
        ...

    async def append_audit_across(self, events: Mapping[uuid.UUID, Sequence[AuditEvent]]) -> None:
        """``append_audit_many`` for each community of ``events``, the chains' heads locked in
        community id order."""
        ...

    async def lock_audit_heads(self, community_ids: Sequence[uuid.UUID]) -> None:
        """Locks the chains' heads of ``community_ids`` in community id order, for appends to
        come in this unit of work. A write that appends to several communities' chains takes
        them so, in the order every other writer does (``EntryBatches.post_across``), whatever
        order its own appends come in."""
        ...

    async def list_audit(
        self, community_id: uuid.UUID, *, after_seq: int, limit: int
    ) -> Sequence[AuditRecord]: ...
    async def audit_head(self, community_id: uuid.UUID) -> tuple[int, str] | None:
        """The last record's seq and hash, as the chain remembers them."""
        ...
