"""The SQL of governance (``ledger.governance.ports.GovernanceStore``) over one unit of work's
connection, for SQLite and PostgreSQL alike.

Row locks (``FOR UPDATE``) serialise writers of one budget or one disbursement request on
PostgreSQL; SQLite's write transactions are serialised whole (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.books.ports import UnitOfWork, UnitOfWorkFactory
from ledger.books.service import Ledger
from ledger.governance.model import (
    Budget,
    BudgetLine,
    BudgetStatus,
    Consent,
    ConsentRule,
    Disbursement,
    DisbursementStatus,
    GovernanceSettings,
    Role,
    RoleTerm,
    Step,
    StepAction,
)
from ledger.governance.ports import GovernanceStore
from ledger.governance.service import Governance
from ledger.governance.transactions import GovernanceTransactions
from ledger.kernel.clock import utc_now
from ledger.kernel.model import new_id
from ledger.kernel.observer import LedgerEvents
from ledger.store.tables import (
    accounts,
    budget_consents,
    budget_lines,
    budgets,
    disbursement_approvals,
    disbursement_steps,
    disbursements,
    entries,
    governance_settings,
    postings,
    role_terms,
)
from ledger.store.uow import SqlUnitOfWork


def store_of(uow: UnitOfWork) -> GovernanceStore:
    assert isinstance(uow, SqlUnitOfWork), "the SQL store needs the SQL unit of work"
    return SqlGovernanceStore(uow.connection)


class SqlGovernanceStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    # Settings ---------------------------------------------------------------------------------

    async def get_settings(self, community_id: uuid.UUID) -> GovernanceSettings:
        t = governance_settings
        row = (
            await self._conn.execute(sa.select(t).where(t.c.community_id == community_id))
        ).first()
        if row is None:
            return GovernanceSettings(community_id)
        return GovernanceSettings(
            community_id=community_id,
            consent_rule=ConsentRule(row.consent_rule),
            consent_quorum=row.consent_quorum,
            approvals_required=row.approvals_required,
            request_days=row.request_days,
            fund_account_id=row.fund_account_id,
            fund_target=row.fund_target,
            fund_target_months=row.fund_target_months,
            updated_at=row.updated_at,
        )

    async def put_settings(self, settings: GovernanceSettings) -> None:
        t = governance_settings
        values = {
            "consent_rule": settings.consent_rule.value,
            "consent_quorum": settings.consent_quorum,
            "approvals_required": settings.approvals_required,
            "request_days": settings.request_days,
            "fund_account_id": settings.fund_account_id,
            "fund_target": settings.fund_target,
            "fund_target_months": settings.fund_target_months,
            "updated_at": settings.updated_at,
        }
        updated = await self._conn.execute(
            t.update().where(t.c.community_id == settings.community_id).values(**values)
        )
        if updated.rowcount == 0:
            await self._conn.execute(
                t.insert().values(community_id=settings.community_id, **values)
            )

    # Roles ------------------------------------------------------------------------------------

    async def insert_term(self, term: RoleTerm) -> None:
        await self._conn.execute(
            role_terms.insert().values(
                community_id=term.community_id,
                id=term.id,
                member_id=term.member_id,
                role=term.role.value,
                starts_at=term.starts_at,
                ends_at=term.ends_at,
                assigned_at=term.assigned_at,
                ended_at=term.ended_at,
            )
        )

    async def get_term(
        self, community_id: uuid.UUID, term_id: uuid.UUID, *, lock: bool = False
    ) -> RoleTerm | None:
        t = role_terms
        query = sa.select(t).where(t.c.community_id == community_id, t.c.id == term_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _term(row)

    async def end_term(
        self, community_id: uuid.UUID, term_id: uuid.UUID, ends_at: datetime, ended_at: datetime
    ) -> None:
        t = role_terms
        await self._conn.execute(
            t.update()
            .where(t.c.community_id == community_id, t.c.id == term_id)
            .values(ends_at=ends_at, ended_at=ended_at)
        )

    async def list_terms(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None,
        current_at: datetime | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[RoleTerm]:
        t = role_terms
        query = sa.select(t).where(t.c.community_id == community_id)
        if member_id is not None:
            query = query.where(t.c.member_id == member_id)
        if current_at is not None:
            query = query.where(_current(current_at))
        if after is not None:
            query = query.where(t.c.id > after)
        rows = await self._conn.execute(query.order_by(t.c.id).limit(limit))
        return [_term(row) for row in rows]

    async def current_roles(
        self, community_id: uuid.UUID, member_id: uuid.UUID, now: datetime
    ) -> frozenset[Role]:
        t = role_terms
        rows = await self._conn.execute(
            sa.select(t.c.role)
            .distinct()
            .where(t.c.community_id == community_id, t.c.member_id == member_id, _current(now))
        )
        return frozenset(Role(role) for (role,) in rows)

    async def current_holders(
        self, community_id: uuid.UUID, role: Role, now: datetime
    ) -> frozenset[uuid.UUID]:
        t = role_terms
        rows = await self._conn.execute(
            sa.select(t.c.member_id)
            .distinct()
            .where(t.c.community_id == community_id, t.c.role == role.value, _current(now))
        )
        return frozenset(uuid.UUID(str(member)) for (member,) in rows)

    # Budgets ----------------------------------------------------------------------------------

    async def insert_budget(self, budget: Budget) -> None:
        await self._conn.execute(
            budgets.insert().values(
                community_id=budget.community_id,
                id=budget.id,
                name=budget.name,
                period=budget.period,
                period_start=budget.period_start,
                period_end=budget.period_end,
                version=budget.version,
                supersedes=budget.supersedes,
                effective_from=budget.effective_from,
                status=BudgetStatus.DRAFT.value,
                created_at=budget.created_at,
                adopted_at=None,
            )
        )
        await self._conn.execute(
            budget_lines.insert(),
            [
                {
                    "community_id": budget.community_id,
                    "budget_id": budget.id,
                    "line": index,
                    "account_group": line.account_group,
                    "commodity": line.commodity,
                    "amount": line.amount,
                }
                for index, line in enumerate(budget.lines)
            ],
        )

    async def get_budget(
        self, community_id: uuid.UUID, budget_id: uuid.UUID, *, lock: bool = False
    ) -> Budget | None:
        b = budgets
        query = _budget_query(community_id).where(b.c.id == budget_id)
        row = (await self._conn.execute(query.with_for_update(of=b) if lock else query)).first()
        if row is None:
            return None
        return (await self._complete_budgets(community_id, [row]))[0]

    async def list_budgets(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Budget]:
        query = _budget_query(community_id)
        if after is not None:
            query = query.where(budgets.c.id > after)
        rows = list(await self._conn.execute(query.order_by(budgets.c.id).limit(limit)))
        return await self._complete_budgets(community_id, rows)

    async def insert_consent(
        self,
        community_id: uuid.UUID,
        budget_id: uuid.UUID,
        member_id: uuid.UUID,
        at: datetime,
        comment: str | None,
    ) -> None:
        await self._conn.execute(
            budget_consents.insert().values(
                community_id=community_id,
                budget_id=budget_id,
                member_id=member_id,
                consented_at=at,
                comment=comment,
            )
        )

    async def mark_adopted(
        self, community_id: uuid.UUID, budget_id: uuid.UUID, at: datetime
    ) -> None:
        b = budgets
        await self._conn.execute(
            b.update()
            .where(b.c.community_id == community_id, b.c.id == budget_id)
            .values(status=BudgetStatus.ADOPTED.value, adopted_at=at)
        )

    async def budget_actuals(
        self, community_id: uuid.UUID, budget: Budget
    ) -> Mapping[int, tuple[int, int]]:
        lines, a, p, e = budget_lines, accounts, postings, entries
        group = lines.c.account_group
        in_group = sa.or_(
            a.c.code == group,
            sa.func.substr(a.c.code, 1, sa.func.length(group) + 1) == group + ":",
        )
        query = (
            sa.select(
                lines.c.line,
                e.c.status,
                sa.func.sum(p.c.amount * a.c.normal_sign).label("total"),
            )
            .select_from(lines)
            .join(
                a,
                sa.and_(
                    a.c.community_id == lines.c.community_id,
                    a.c.commodity == lines.c.commodity,
                    in_group,
                ),
            )
            .join(p, sa.and_(p.c.community_id == a.c.community_id, p.c.account_id == a.c.id))
            .join(e, sa.and_(e.c.community_id == p.c.community_id, e.c.id == p.c.entry_id))
            .where(
                lines.c.community_id == community_id,
                lines.c.budget_id == budget.id,
                p.c.effective_date.between(budget.period_start, budget.period_end),
                e.c.status.in_(("posted", "pending")),
            )
            .group_by(lines.c.line, e.c.status)
        )
        sums: dict[int, tuple[int, int]] = {}
        for line, status, total in await self._conn.execute(query):
            posted, pending = sums.get(line, (0, 0))
            if status == "posted":
                posted = int(total)
            else:
                pending = int(total)
            sums[line] = (posted, pending)
        return sums

    async def budgets_in_force(
        self, community_id: uuid.UUID, start: date, end: date
    ) -> Sequence[Budget]:
        b = budgets
        query = _budget_query(community_id).where(
            b.c.status == BudgetStatus.ADOPTED.value,
            b.c.effective_from <= end,
            b.c.period_end >= start,
        )
        rows = list(await self._conn.execute(query.order_by(b.c.id)))
        found = await self._complete_budgets(community_id, rows)
        return [
            budget
            for budget in found
            if budget.effective_until is None or budget.effective_until >= start
        ]

    async def _complete_budgets(self, community_id: uuid.UUID, rows: list[Any]) -> list[Budget]:
        """Budgets with their lines, consents and successors, in three queries."""
        if not rows:
            return []
        ids = [row.id for row in rows]
        lines: dict[uuid.UUID, list[BudgetLine]] = {i: [] for i in ids}
        for row in await self._conn.execute(
            sa.select(budget_lines)
            .where(budget_lines.c.community_id == community_id, budget_lines.c.budget_id.in_(ids))
            .order_by(budget_lines.c.budget_id, budget_lines.c.line)
        ):
            lines[row.budget_id].append(BudgetLine(row.account_group, row.commodity, row.amount))
        consents: dict[uuid.UUID, list[Consent]] = {i: [] for i in ids}
        c = budget_consents
        for row in await self._conn.execute(
            sa.select(c)
            .where(c.c.community_id == community_id, c.c.budget_id.in_(ids))
            .order_by(c.c.consented_at, c.c.member_id)
        ):
            consents[row.budget_id].append(Consent(row.member_id, row.consented_at, row.comment))
        successors: dict[uuid.UUID, date] = {}
        b = budgets
        for supersedes, effective_from in await self._conn.execute(
            sa.select(b.c.supersedes, b.c.effective_from).where(
                b.c.community_id == community_id,
                b.c.supersedes.in_(ids),
                b.c.status == BudgetStatus.ADOPTED.value,
            )
        ):
            successors[supersedes] = effective_from
        return [
            _budget(row, tuple(lines[row.id]), tuple(consents[row.id]), successors.get(row.id))
            for row in rows
        ]

    # Disbursements ----------------------------------------------------------------------------

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


def _current(now: datetime) -> sa.ColumnElement[bool]:
    t = role_terms
    return sa.and_(t.c.starts_at <= now, sa.or_(t.c.ends_at.is_(None), t.c.ends_at > now))


def _term(row: Any) -> RoleTerm:
    return RoleTerm(
        community_id=row.community_id,
        id=row.id,
        member_id=row.member_id,
        role=Role(row.role),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        assigned_at=row.assigned_at,
        ended_at=row.ended_at,
    )


def _budget_query(community_id: uuid.UUID) -> sa.Select[Any]:
    return sa.select(budgets).where(budgets.c.community_id == community_id)


def _budget(
    row: Any,
    lines: tuple[BudgetLine, ...],
    consents: tuple[Consent, ...],
    successor_from: date | None,
) -> Budget:
    status = BudgetStatus(row.status)
    until = None
    if successor_from is not None:
        status = BudgetStatus.SUPERSEDED
        until = date.fromordinal(successor_from.toordinal() - 1)
    return Budget(
        community_id=row.community_id,
        id=row.id,
        name=row.name,
        period=row.period,
        period_start=row.period_start,
        period_end=row.period_end,
        version=row.version,
        supersedes=row.supersedes,
        effective_from=row.effective_from,
        effective_until=until,
        status=status,
        created_at=row.created_at,
        adopted_at=row.adopted_at,
        lines=lines,
        consents=consents,
    )


def _disbursement_query(community_id: uuid.UUID) -> sa.Select[Any]:
    d, a = disbursements, accounts
    return (
        sa.select(d, a.c.commodity)
        .join(a, sa.and_(a.c.community_id == d.c.community_id, a.c.id == d.c.fund_account_id))
        .where(d.c.community_id == community_id)
    )


def sql_governance(
    uow: UnitOfWorkFactory,
    ledger: Ledger,
    clock: Callable[[], datetime] = utc_now,
    events: LedgerEvents | None = None,
) -> Governance:
    """Every governance use case over ``ledger.store``'s unit-of-work factory; ``events`` hears
    of their writes."""
    return Governance.over(GovernanceTransactions(uow, store_of, clock, events), ledger)
