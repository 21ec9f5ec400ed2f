"""What governance needs from persistence, stated without SQL (``ledger.store.governance``
implements it on the unit of work: ``SqlGovernanceStore.of``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from ledger.books.ports import UnitOfWork
from ledger.governance.model import (
    Budget,
    Disbursement,
    DisbursementStatus,
    GovernanceSettings,
    Role,
    RoleTerm,
    Step,
)


class GovernanceStore(Protocol):
    """Reads and writes of one unit of work, every one scoped by ``community_id``."""

    async def get_settings(self, community_id: uuid.UUID) -> GovernanceSettings: ...
    async def put_settings(self, settings: GovernanceSettings) -> None: ...

    async def insert_term(self, term: RoleTerm) -> None: ...
    async def get_term(
        self, community_id: uuid.UUID, term_id: uuid.UUID, *, lock: bool = False
    ) -> RoleTerm | None: ...
    async def end_term(
        self, community_id: uuid.UUID, term_id: uuid.UUID, ends_at: datetime, ended_at: datetime
    ) -> None: ...
    async def list_terms(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None,
        current_at: datetime | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[RoleTerm]: ...
    async def current_roles(
        self, community_id: uuid.UUID, member_id: uuid.UUID, now: datetime
    ) -> frozenset[Role]: ...
    async def current_holders(
        self, community_id: uuid.UUID, role: Role, now: datetime
    ) -> frozenset[uuid.UUID]: ...

    async def insert_budget(self, budget: Budget) -> None: ...
    async def get_budget(
        self, community_id: uuid.UUID, budget_id: uuid.UUID, *, lock: bool = False
    ) -> Budget | None: ...
    async def list_budgets(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Budget]: ...
    async def insert_consent(
        self,
        community_id: uuid.UUID,
        budget_id: uuid.UUID,
        member_id: uuid.UUID,
        at: datetime,
        comment: str | None,
    ) -> None: ...
    async def mark_adopted(
        self, community_id: uuid.UUID, budget_id: uuid.UUID, at: datetime
    ) -> None: ...
    async def budget_actuals(
        self, community_id: uuid.UUID, budget: Budget
    ) -> Mapping[int, tuple[int, int]]:
        """Per line index: (posted, pending) sums over the budget's period."""
        ...

    async def budgets_in_force(
        self, community_id: uuid.UUID, start: date, end: date
    ) -> Sequence[Budget]:
        """Adopted versions in force on some day of ``start``–``end``."""
        ...

    async def insert_disbursement(self, disbursement: Disbursement) -> None: ...
    async def get_disbursement(
        self, community_id: uuid.UUID, disbursement_id: uuid.UUID, *, lock: bool = False
    ) -> Disbursement | None: ...
    async def list_disbursements(
        self,
        community_id: uuid.UUID,
        *,
        status: DisbursementStatus | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Disbursement]: ...
    async def add_approval(
        self,
        community_id: uuid.UUID,
        disbursement_id: uuid.UUID,
        member_id: uuid.UUID,
        at: datetime,
    ) -> bool:
        """Records a steward's approval; False when that steward had approved already."""
        ...

    async def complete_disbursement(
        self,
        community_id: uuid.UUID,
        disbursement_id: uuid.UUID,
        status: DisbursementStatus,
        at: datetime,
    ) -> None: ...
    async def add_step(
        self, community_id: uuid.UUID, disbursement_id: uuid.UUID, step: Step
    ) -> None: ...
    async def overdue(self, community_id: uuid.UUID, now: datetime) -> Sequence[uuid.UUID]: ...
    async def expenses_between(
        self, community_id: uuid.UUID, commodity: str, start: date, end: date
    ) -> int:
        """Posted expenses (debits − credits of expense accounts) in ``commodity``."""
        ...


StoreOf = Callable[[UnitOfWork], GovernanceStore]
"""The governance store of a unit of work (the composition root supplies the SQL one)."""
