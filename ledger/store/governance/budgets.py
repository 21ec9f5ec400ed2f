"""SQL of budgets: versions, lines, stewards' consents, and actuals against the books.

A budget is read with its lines, consents and successor in three queries (``_complete_budgets``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ledger.governance.model import Budget, BudgetLine, BudgetStatus, Consent
from ledger.store.scoped import ScopedStore
from ledger.store.tables import accounts, budget_consents, budget_lines, budgets, entries, postings


class SqlBudgets(ScopedStore):
    """Budgets, their lines and consents."""

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
