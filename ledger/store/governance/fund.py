"""SQL of the emergency fund: disbursement requests, their approvals and steps, and the
expenses the fund's target is measured against."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ledger.governance.model import Disbursement, DisbursementStatus, Step, StepAction
from ledger.kernel.model import new_id
from ledger.store.scoped import ScopedStore
from ledger.store.tables import (
    accounts,
    disbursement_approvals,
    disbursement_steps,
    disbursements,
    entries,
    postings,
)


class SqlFund(ScopedStore):
    """Disbursement requests."""

    async def insert_disbursement(self, disbursement: Disbursement) -> None:
        d = disbursement
        await self._conn.execute(
            disbursements.insert().values(
                community_id=d.community_id,
                id=d.id,
                fund_account_id=d.fund_account_id,
                payee_account_id=d.payee_account_id,
                amount=d.amount,
                reason=d.reason,
                requested_by=d.requested_by,
                approvals_required=d.approvals_required,
                deadline_at=d.deadline_at,
                status=d.status.value,
                created_at=d.created_at,
                completed_at=d.completed_at,
            )
        )

    async def get_disbursement(
        self, community_id: uuid.UUID, disbursement_id: uuid.UUID, *, lock: bool = False
    ) -> Disbursement | None:
        d = disbursements
        query = _disbursement_query(community_id).where(d.c.id == disbursement_id)
        row = (await self._conn.execute(query.with_for_update(of=d) if lock else query)).first()
        if row is None:
            return None
        return (await self._complete_disbursements(community_id, [row]))[0]

    async def list_disbursements(
        self,
        community_id: uuid.UUID,
        *,
        status: DisbursementStatus | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Disbursement]:
        d = disbursements
        query = _disbursement_query(community_id)
        if status is not None:
            query = query.where(d.c.status == status.value)
        if after is not None:
            query = query.where(d.c.id > after)
        rows = list(await self._conn.execute(query.order_by(d.c.id).limit(limit)))
        return await self._complete_disbursements(community_id, rows)

    async def add_approval(
        self,
        community_id: uuid.UUID,
        disbursement_id: uuid.UUID,
        member_id: uuid.UUID,
        at: datetime,
    ) -> bool:
        t = disbursement_approvals
        found = (
            await self._conn.execute(
                sa.select(t.c.member_id).where(
                    t.c.community_id == community_id,
                    t.c.disbursement_id == disbursement_id,
                    t.c.member_id == member_id,
                )
            )
        ).first()
        if found is not None:
            return False
        await self._conn.execute(
            t.insert().values(
                community_id=community_id,
                disbursement_id=disbursement_id,
                member_id=member_id,
                approved_at=at,
            )
        )
        return True

    async def complete_disbursement(
        self,
        community_id: uuid.UUID,
        disbursement_id: uuid.UUID,
        status: DisbursementStatus,
        at: datetime,
    ) -> None:
        d = disbursements
        await self._conn.execute(
            d.update()
            .where(d.c.community_id == community_id, d.c.id == disbursement_id)
            .values(status=status.value, completed_at=at)
        )

    async def add_step(
        self, community_id: uuid.UUID, disbursement_id: uuid.UUID, step: Step
    ) -> None:
        await self._conn.execute(
            disbursement_steps.insert().values(
                community_id=community_id,
                id=new_id(),
                disbursement_id=disbursement_id,
                action=step.action.value,
                member_id=step.member_id,
                at=step.at,
                comment=step.comment,
            )
        )

    async def overdue(self, community_id: uuid.UUID, now: datetime) -> Sequence[uuid.UUID]:
        d = disbursements
        rows = await self._conn.execute(
            sa.select(d.c.id)
            .where(
                d.c.community_id == community_id,
                d.c.status == DisbursementStatus.PENDING.value,
                d.c.deadline_at <= now,
            )
            .order_by(d.c.id)
        )
        return [uuid.UUID(str(found)) for (found,) in rows]

    async def expenses_between(
        self, community_id: uuid.UUID, commodity: str, start: date, end: date
    ) -> int:
        a, p, e = accounts, postings, entries
        total = (
            await self._conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(p.c.amount), 0))
                .select_from(p)
                .join(a, sa.and_(a.c.community_id == p.c.community_id, a.c.id == p.c.account_id))
                .join(e, sa.and_(e.c.community_id == p.c.community_id, e.c.id == p.c.entry_id))
                .where(
                    p.c.community_id == community_id,
                    a.c.type == "expense",
                    a.c.commodity == commodity,
                    e.c.status == "posted",
                    p.c.effective_date.between(start, end),
                )
            )
        ).scalar_one()
        return int(total)

    async def _complete_disbursements(
        self, community_id: uuid.UUID, rows: list[Any]
    ) -> list[Disbursement]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        approvals: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
        t = disbursement_approvals
        for row in await self._conn.execute(
            sa.select(t)
            .where(t.c.community_id == community_id, t.c.disbursement_id.in_(ids))
            .order_by(t.c.approved_at, t.c.member_id)
        ):
            approvals[row.disbursement_id].append(row.member_id)
        steps: dict[uuid.UUID, list[Step]] = {i: [] for i in ids}
        s = disbursement_steps
        for row in await self._conn.execute(
            sa.select(s)
            .where(s.c.community_id == community_id, s.c.disbursement_id.in_(ids))
            .order_by(s.c.id)
        ):
            steps[row.disbursement_id].append(
                Step(StepAction(row.action), row.member_id, row.at, row.comment)
            )
        return [
            Disbursement(
                community_id=community_id,
                id=row.id,
                fund_account_id=row.fund_account_id,
                payee_account_id=row.payee_account_id,
                amount=row.amount,
                commodity=row.commodity,
                reason=row.reason,
                requested_by=row.requested_by,
                approvals_required=row.approvals_required,
                approvals=tuple(approvals[row.id]),
                deadline_at=row.deadline_at,
                status=DisbursementStatus(row.status),
                created_at=row.created_at,
                completed_at=row.completed_at,
                steps=tuple(steps[row.id]),
            )
            for row in rows
        ]


def _disbursement_query(community_id: uuid.UUID) -> sa.Select[Any]:
    d, a = disbursements, accounts
    return (
        sa.select(d, a.c.commodity)
        .join(a, sa.and_(a.c.community_id == d.c.community_id, a.c.id == d.c.fund_account_id))
        .where(d.c.community_id == community_id)
    )
