"""Page 1 of the report: the budget meeting's questions answered at a glance, in words.

Net result, months of runway, the emergency fund against its target, budget lines overrun and
the time bank's health in one sentence each, with a banner when the period is not over (or has
not begun): figures of an open period are partial, and the page says so before anything else.
Pure: everything comes from the report's values; the template only lays the sentences out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.kernel.model import HOURS
from ledger.kernel.quantity import Unit, Units, hours, show, unit_for
from reports.render.budget import BudgetLineView
from reports.values import SustainabilityReport


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    text: str
    tone: str = ""
    """``good``, ``bad`` or empty: the colour of the sentence's mark."""


@dataclass(frozen=True, slots=True)
class Summary:
    banner: str | None
    """Set when the period is still open or yet to come."""
    facts: tuple[Fact, ...]


def day(value: date) -> str:
    """``5 December 2026``: a date as people write it."""
    return f"{value.day} {value:%B %Y}"


def banner(report: SustainabilityReport) -> str | None:
    today = report.generated_at.date()
    start, end = report.period.start, report.period.end
    if start > today:
        return (
            f"This period has not begun: it runs from {day(start)} to {day(end)}, so there are "
            "no figures yet."
        )
    if end >= today:
        return (
            f"The period is not over: figures to {day(today)}; it ends {day(end)}. Every total "
            "below is partial."
        )
    return None


def _net(report: SustainabilityReport, units: Units) -> list[Fact]:
    facts = []
    for statement in report.financial.income_statements:
        if statement.commodity == HOURS:
            continue
        unit = unit_for(statement.commodity, units)
        net = statement.net.current
        word = "surplus" if net >= 0 else "deficit"
        income = show(statement.total_income.current, unit)
        expenses = show(statement.total_expenses.current, unit)
        text = f"{show(abs(net), unit)} {word}: income {income}, expenses {expenses}."
        facts.append(Fact(f"Net result ({unit.code})", text, "good" if net >= 0 else "bad"))
    return facts


def _months(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.quantize(Decimal('0.1'))}"


def _funds(report: SustainabilityReport, units: Units) -> list[Fact]:
    facts = []
    for fund in report.resilience.emergency_funds:
        unit = unit_for(fund.commodity, units)
        facts.append(
            Fact(
                "Months of runway",
                f"the emergency fund would pay {_months(fund.months_covered)} months of essential "
                f"costs ({show(fund.monthly_essential_expenses, unit)} a month).",
                ""
                if fund.months_covered is None
                else ("good" if fund.months_covered >= 3 else "bad"),
            )
        )
        if fund.target is None:
            target, tone = "no target is set.", ""
        elif fund.balance >= fund.target:
            target, tone = f"at or above its target of {show(fund.target, unit)}.", "good"
        else:
            short = show(fund.target - fund.balance, unit)
            target, tone = f"{short} short of its target of {show(fund.target, unit)}.", "bad"
        facts.append(Fact("Emergency fund", f"{show(fund.balance, unit)}, {target}", tone))
    if not facts:
        facts.append(Fact("Emergency fund", "none is designated (Assets:EmergencyFund)."))
    return facts


def _budget(lines: tuple[BudgetLineView, ...]) -> Fact:
    if not lines:
        return Fact("Budget", "no adopted budget covers this period.")
    off = [line for line in lines if line.tone == "bad"]
    if not off:
        return Fact("Budget", f"all {len(lines)} lines are within plan.", "good")
    named = "; ".join(f"{line.name}: {line.verdict}" for line in off)
    return Fact("Budget", f"{len(off)} of {len(lines)} lines are off plan — {named}.", "bad")


def _time_bank(report: SustainabilityReport) -> Fact:
    bank = report.time_bank
    if not bank.exchanges:
        return Fact("Time bank", "no exchanges in the period.", "bad")
    share = ""
    if bank.participation_rate is not None:
        share = f" ({(bank.participation_rate * 100).quantize(Decimal(1))} %)"
    return Fact(
        "Time bank",
        f"{bank.active_members} of {bank.members} members{share} exchanged "
        f"{hours(bank.minutes_exchanged, thousands=',')} in {bank.exchanges} exchanges; "
        f"{bank.reciprocal_members} both gave and received.",
    )


def summary(
    report: SustainabilityReport, units: dict[str, Unit], lines: tuple[BudgetLineView, ...]
) -> Summary:
    facts = [
        *_net(report, units),
        *_funds(report, units),
        _budget(lines),
        _time_bank(report),
    ]
    return Summary(banner(report), tuple(facts))
