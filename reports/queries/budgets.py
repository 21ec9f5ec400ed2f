"""Budget vs actual for the sustainability report: the lines of every adopted budget version in
force during the period, with posted and pending sums per line in GROUP BY queries.

A version is in force on the days from its ``effective_from`` until an adopted revision takes
over; its actuals run from the budget period's first day to the earlier of its last day and the
report's end. An account group covers the account of that code and every ``group:…`` below it.
Amounts are in each line's commodity's smallest unit, in the accounts' normal direction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.store.tables import (
    accounts,
    budget_lines,
    budgets,
    entries,
    governance_settings,
    postings,
)


@dataclass(frozen=True, slots=True)
class BudgetLineFigures:
    budget_id: uuid.UUID
    name: str
    period: str
    version: int
    account_group: str
    commodity: str
    planned: int
    actual: int
    pending: int
    budget_start: date
    budget_end: date
    kind: str
    """The account type of the group's accounts (``income``, ``expense`` …); ``""`` when the
    group holds no account yet."""


async def budget_lines_in_force(
    conn: AsyncConnection, community_id: uuid.UUID, start: date, end: date
) -> list[BudgetLineFigures]:
    """Every line of the budget versions in force during ``start``–``end``, by budget and line,
    with its posted (``actual``) and pending sums."""
    in_force = _versions_in_force(community_id, start, end)
    totals = await _line_sums(conn, community_id, in_force, end)
    kinds = await _group_kinds(conn, community_id, in_force)
    b, lines = budgets, budget_lines
    rows = await conn.execute(
        sa.select(
            b.c.id,
            b.c.name,
            b.c.period,
            b.c.version,
            b.c.period_start,
            b.c.period_end,
            lines.c.line,
            lines.c.account_group,
            lines.c.commodity,
            lines.c.amount,
        )
        .select_from(lines)
        .join(in_force, in_force.c.id == lines.c.budget_id)
        .join(b, sa.and_(b.c.community_id == lines.c.community_id, b.c.id == lines.c.budget_id))
        .where(lines.c.community_id == community_id)
        .order_by(b.c.id, lines.c.line)
    )
    return [
        BudgetLineFigures(
            budget_id=row.id,
            name=row.name,
            period=row.period,
            version=row.version,
            account_group=row.account_group,
            commodity=row.commodity,
            planned=row.amount,
            actual=totals.get((row.id, row.line, "posted"), 0),
            pending=totals.get((row.id, row.line, "pending"), 0),
            budget_start=row.period_start,
            budget_end=row.period_end,
            kind=kinds.get((row.id, row.line), ""),
        )
        for row in rows
    ]


def _in_group(group: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """An account of the code ``group`` or below it (``group:…``)."""
    a = accounts
    return sa.or_(
        a.c.code == group, sa.func.substr(a.c.code, 1, sa.func.length(group) + 1) == group + ":"
    )


async def _group_kinds(
    conn: AsyncConnection, community_id: uuid.UUID, in_force: sa.Subquery
) -> dict[tuple[uuid.UUID, int], str]:
    """Per (budget, line), the account type of its group's accounts: an income line short of
    plan and an expense line over it are both bad news, and the report says which it is."""
    lines, a = budget_lines, accounts
    rows = await conn.execute(
        sa.select(lines.c.budget_id, lines.c.line, sa.func.min(a.c.type))
        .select_from(lines)
        .join(in_force, in_force.c.id == lines.c.budget_id)
        .join(
            a,
            sa.and_(
                a.c.community_id == lines.c.community_id,
                a.c.commodity == lines.c.commodity,
                _in_group(lines.c.account_group),
            ),
        )
        .where(lines.c.community_id == community_id)
        .group_by(lines.c.budget_id, lines.c.line)
    )
    return {(row[0], row[1]): str(row[2]) for row in rows}


def _versions_in_force(community_id: uuid.UUID, start: date, end: date) -> sa.Subquery:
    """The ids of the adopted versions whose days overlap ``start``–``end`` and that no adopted
    revision took over by ``start``."""
    b, later = budgets, budgets.alias("later")
    superseded_before = sa.exists().where(
        later.c.community_id == b.c.community_id,
        later.c.supersedes == b.c.id,
        later.c.status == "adopted",
        later.c.effective_from <= start,
    )
    return (
        sa.select(b.c.id)
        .where(
            b.c.community_id == community_id,
            b.c.status == "adopted",
            b.c.effective_from <= end,
            b.c.period_end >= start,
            ~superseded_before,
        )
        .subquery()
    )


async def _line_sums(
    conn: AsyncConnection, community_id: uuid.UUID, in_force: sa.Subquery, end: date
) -> dict[tuple[uuid.UUID, int, str], int]:
    """Per (budget, line, status), the sum of the line's group's postings in its accounts'
    normal direction, from the budget period's first day to the earlier of its last and ``end``."""
    lines, a, p, e, b = budget_lines, accounts, postings, entries, budgets
    group = lines.c.account_group
    in_group = sa.or_(
        a.c.code == group, sa.func.substr(a.c.code, 1, sa.func.length(group) + 1) == group + ":"
    )
    window_end = sa.case((b.c.period_end < end, b.c.period_end), else_=end)
    sums = await conn.execute(
        sa.select(
            lines.c.budget_id,
            lines.c.line,
            e.c.status,
            sa.func.sum(p.c.amount * a.c.normal_sign),
        )
        .select_from(lines)
        .join(in_force, in_force.c.id == lines.c.budget_id)
        .join(b, sa.and_(b.c.community_id == lines.c.community_id, b.c.id == lines.c.budget_id))
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
            e.c.status.in_(("posted", "pending")),
            p.c.effective_date >= b.c.period_start,
            p.c.effective_date <= window_end,
        )
        .group_by(lines.c.budget_id, lines.c.line, e.c.status)
    )
    return {(budget_id, line, status): int(total) for budget_id, line, status, total in sums}


@dataclass(frozen=True, slots=True)
class FundSetting:
    """The emergency fund the community designated in its governance settings, and its target."""

    account_id: uuid.UUID
    target: int | None
    target_months: int | None


async def emergency_fund_setting(
    conn: AsyncConnection, community_id: uuid.UUID
) -> FundSetting | None:
    s = governance_settings.c
    row = (
        await conn.execute(
            sa.select(s.fund_account_id, s.fund_target, s.fund_target_months).where(
                s.community_id == community_id, s.fund_account_id.is_not(None)
            )
        )
    ).first()
    return None if row is None else FundSetting(row[0], row[1], row[2])
