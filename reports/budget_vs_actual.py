"""The report's budget vs actual: pure, from the figures ``reports.queries.budgets`` read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.governance.model import BudgetLine, line_actual
from reports import classification
from reports.queries.budgets import BudgetLineFigures
from reports.values import BudgetLineReport


def lines(
    rows: Sequence[BudgetLineFigures], name: Callable[[str], str] = classification.group_of
) -> tuple[BudgetLineReport, ...]:
    """Each line with its actuals; ``name`` names its account group as people read it
    (``classification.group_names``)."""
    found = []
    for row in rows:
        figures = line_actual(
            BudgetLine(row.account_group, row.commodity, row.planned), row.actual, row.pending
        )
        found.append(
            BudgetLineReport(
                budget=row.name,
                period=row.period,
                version=row.version,
                account_group=row.account_group,
                commodity=row.commodity,
                planned=row.planned,
                actual=figures.actual,
                pending=figures.pending,
                variance=figures.variance,
                used=figures.used,
                kind=row.kind,
                budget_start=row.budget_start,
                budget_end=row.budget_end,
                name=name(row.account_group),
            )
        )
    return tuple(found)


def status(rows: Sequence[BudgetLineFigures]) -> str:
    """``no adopted budget``, or the versions in force: ``adopted: Q4 (2026-Q4, v2)``."""
    seen: dict[object, str] = {}
    for row in rows:
        seen.setdefault(row.budget_id, f"{row.name} ({row.period}, v{row.version})")
    if not seen:
        return classification.NO_BUDGET
    return "adopted: " + "; ".join(seen.values())
