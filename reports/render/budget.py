"""Budget vs actual as a volunteer treasurer reads it: a verdict in words and colour per line.

Income and expenses are judged the other way round: spending more than planned is "over
budget" (bad), earning less than planned is "short of plan" (bad), and the reverse of each is
good news. A budget whose period reaches past the report's end (a Q4 budget in a September to
November report) is set against a plan pro-rated by days to the actuals' window, and the line
says so; so is a budget that began before the report. Pure: from the report's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from ledger.kernel.quantity import Units, show, unit_for
from reports import classification
from reports.values import BudgetLineReport, SustainabilityReport

TOLERANCE = Decimal("0.05")
"""Within 5 % of plan a line is "on plan": small drifts are not news for the meeting."""


@dataclass(frozen=True, slots=True)
class BudgetLineView:
    name: str
    """The line's group by its account's name (``Tools and repairs``), not its code."""
    planned: str
    """The plan for the actuals' window (pro-rated when the windows differ)."""
    actual: str
    pending: str
    verdict: str
    """``over budget by EUR 12.00 (540 %)``, ``short of plan by …``, ``on plan`` …"""
    tone: str
    """``bad``, ``good`` or ``""``."""
    note: str
    """What the line's figures cover, when that is not the report's whole period."""


def _days(start: date, end: date) -> int:
    return (end - start).days + 1


def _prorated(line: BudgetLineReport, window_end: date) -> tuple[int, str]:
    """The plan for the days of the budget period that have actuals, and a note when that is
    not the whole budget period."""
    if line.budget_start is None or line.budget_end is None or window_end >= line.budget_end:
        return line.planned, ""
    covered, whole = _days(line.budget_start, window_end), _days(line.budget_start, line.budget_end)
    share = Decimal(covered) / Decimal(whole)
    planned = int((line.planned * share).quantize(Decimal(1), ROUND_HALF_EVEN))
    return planned, (
        f"{line.period} budget ({line.budget_start} to {line.budget_end}) against actuals to "
        f"{window_end}: plan pro-rated to {covered} of {whole} days"
    )


def _verdict(line: BudgetLineReport, planned: int, units: Units) -> tuple[str, str]:
    unit = unit_for(line.commodity, units)
    if planned == 0:
        return ("nothing planned", "") if line.actual == 0 else ("not in the plan", "bad")
    used = Decimal(line.actual) / Decimal(planned)
    percent = f"{(used * 100).quantize(Decimal(1))} %"
    gap = show(abs(line.actual - planned), unit)
    if abs(used - 1) <= TOLERANCE:
        return f"on plan ({percent})", "good"
    income = line.kind == "income"
    if line.actual > planned:
        return (
            (f"ahead of plan by {gap} ({percent})", "good")
            if income
            else (f"over budget by {gap} ({percent})", "bad")
        )
    return (
        (f"short of plan by {gap} ({percent})", "bad")
        if income
        else (f"under budget by {gap} ({percent})", "good")
    )


def view(report: SustainabilityReport, units: Units) -> tuple[BudgetLineView, ...]:
    found = []
    # The budget's name and version only when lines of several versions stand side by side.
    several = len({(line.budget, line.version) for line in report.financial.budget_lines}) > 1
    for line in report.financial.budget_lines:
        window_end = min(report.period.end, line.budget_end or report.period.end)
        planned, note = _prorated(line, window_end)
        if line.budget_start is not None and line.budget_start < report.period.start:
            begun = f"actuals since {line.budget_start}, before this report's period"
            note = f"{note}; {begun}" if note else begun
        verdict, tone = _verdict(line, planned, units)
        unit = unit_for(line.commodity, units)
        found.append(
            BudgetLineView(
                (line.name or classification.group_of(line.account_group))
                + (f" ({line.budget} v{line.version})" if several else ""),
                show(planned, unit),
                show(line.actual, unit),
                show(line.pending, unit),
                verdict,
                tone,
                note,
            )
        )
    return tuple(found)
