"""The report as named tables, one per section: what the XLSX sheets and the CSV files hold.

Cells keep their types (integers in the commodity's smallest unit, decimal ratios, dates) so the
writers can store numbers as numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reports.values import Compared, SustainabilityReport

Cell = str | int | Decimal | date | None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    """File-name-safe: the CSV's name and the sheet's name."""
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _about(r: SustainabilityReport) -> Table:
    rows: list[tuple[Cell, ...]] = [
        ("community", r.community_name),
        ("slug", r.community_slug),
        ("period", r.period.label),
        ("start", r.period.start),
        ("end", r.period.end),
        ("previous period", r.previous_period.label),
        ("year earlier", r.year_earlier_period.label),
        ("generated at (UTC)", r.generated_at.strftime("%Y-%m-%d %H:%M:%S")),
        ("fingerprint", r.fingerprint),
        *((f"scale of {u.code}", u.scale) for u in r.units),
    ]
    return Table("report", ("item", "value"), tuple(rows))


def _balance_sheet(r: SustainabilityReport) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for s in r.financial.balance_sheets:
        for side, lines in (
            ("asset", s.assets),
            ("liability", s.liabilities),
            ("equity", s.equity),
        ):
            rows += [(s.commodity, side, line.code, line.name, line.amount) for line in lines]
        rows += [
            (s.commodity, "total", "", "Total assets", s.total_assets),
            (s.commodity, "total", "", "Total liabilities", s.total_liabilities),
            (s.commodity, "total", "", "Total equity", s.total_equity),
            (s.commodity, "total", "", "Earnings to date", s.earnings),
        ]
    return Table("balance-sheet", ("commodity", "side", "code", "name", "amount"), tuple(rows))


def _compared(commodity: str, kind: str, c: Compared) -> tuple[Cell, ...]:
    return (commodity, kind, c.code, c.name, c.current, c.previous, c.year_earlier)


def _income_statement(r: SustainabilityReport) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for s in r.financial.income_statements:
        rows += [_compared(s.commodity, "income", c) for c in s.income]
        rows += [_compared(s.commodity, "expense", c) for c in s.expenses]
        rows += [_compared(s.commodity, "total", c) for c in (s.total_income, s.total_expenses)]
        rows.append(_compared(s.commodity, "total", s.net))
    header = ("commodity", "kind", "code", "line", "current", "previous", "year_earlier")
    return Table("income-statement", header, tuple(rows))


def _cash_flow(r: SustainabilityReport) -> Table:
    rows = tuple(
        (s.commodity, c.code, c.name, c.opening, c.inflow, c.outflow, c.closing)
        for s in r.financial.cash_flows
        for c in (*s.accounts, s.total)
    )
    header = ("commodity", "code", "name", "opening", "inflow", "outflow", "closing")
    return Table("cash-flow", header, rows)


def _pending(r: SustainabilityReport) -> Table:
    rows: list[tuple[Cell, ...]] = [("*", "entries", r.financial.pending_entries)]
    for p in r.financial.pending:
        rows += [(p.commodity, "income", p.income), (p.commodity, "expenses", p.expenses)]
    return Table("pending", ("commodity", "figure", "value"), tuple(rows))


def _budget(r: SustainabilityReport) -> Table:
    rows = tuple(
        (b.commodity, b.budget, b.period, b.version, b.account_group, b.name, b.planned,
         b.actual, b.pending, b.variance, b.used)
        for b in r.financial.budget_lines
    )  # fmt: skip
    header = (
        "commodity", "budget", "period", "version", "account_group", "name", "planned",
        "actual", "pending", "variance", "used",
    )  # fmt: skip
    return Table("budget-vs-actual", header, rows)


def _resilience(r: SustainabilityReport) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for e in r.resilience.emergency_funds:
        rows += [
            (e.commodity, "emergency fund balance", e.balance),
            (
                e.commodity,
                "emergency fund target",
                e.target_status if e.target is None else e.target,
            ),
            (e.commodity, "emergency fund target status", e.target_status),
            (e.commodity, "monthly essential expenses", e.monthly_essential_expenses),
            (e.commodity, "months covered", e.months_covered),
        ]
    rows.append(("*", "burn window", r.resilience.burn_window.label))
    rows.append(("*", "restricted funds", r.resilience.restricted_funds))
    for fund in r.resilience.funds:
        rows += [
            (fund.commodity, f"restricted fund {fund.name}: balance", fund.balance),
            (fund.commodity, f"restricted fund {fund.name}: received", fund.received),
            (fund.commodity, f"restricted fund {fund.name}: spent", fund.spent),
        ]
    rows.append(("*", "budget vs actual", r.financial.budget))
    return Table("resilience", ("commodity", "figure", "value"), tuple(rows))


def _self_sufficiency(r: SustainabilityReport) -> Table:
    rows = tuple(
        (s.commodity, p.period.label, p.period.start, p.period.end, p.earned_income,
         p.external_support, p.total_income, p.expenses, p.earned_share_of_expenses,
         p.external_share_of_income)
        for s in r.self_sufficiency
        for p in s.trend
    )  # fmt: skip
    header = (
        "commodity", "period", "start", "end", "earned_income", "external_support",
        "total_income", "expenses", "earned_share_of_expenses", "external_share_of_income",
    )  # fmt: skip
    return Table("self-sufficiency", header, rows)


def _time_bank(r: SustainabilityReport) -> Table:
    t = r.time_bank
    figures: tuple[tuple[Cell, ...], ...] = (
        ("exchanges", t.exchanges), ("minutes exchanged", t.minutes_exchanged),
        ("members", t.members), ("active members", t.active_members),
        ("participation rate", t.participation_rate), ("new members", t.new_members),
        ("dormant members", t.dormant_members), ("reciprocal members", t.reciprocal_members),
        ("reciprocity rate", t.reciprocity_rate), ("gini of minutes given", t.gini_given),
        ("top 10 % givers", t.top_decile_givers), ("top 10 % share", t.top_decile_share),
        ("burnout watch above (minutes)", t.burnout_watch_minutes),
        ("support watch from (% of limit)", t.support_watch_percent),
    )  # fmt: skip
    return Table("time-bank", ("figure", "value"), figures)


def _members(name: str, r: SustainabilityReport) -> Table:
    t = r.time_bank
    if name == "support-watch":
        rows = tuple((str(s.member_id), s.name, s.balance, s.balance_min) for s in t.support_watch)
        return Table(name, ("member_id", "name", "balance", "balance_min"), rows)
    found = t.given if name == "hours-given" else t.burnout_watch
    return Table(name, ("member_id", "name", "minutes"),
                 tuple((str(m.member_id), m.name, m.minutes) for m in found))  # fmt: skip


def _categories(r: SustainabilityReport) -> Table:
    rows = tuple((c.category, c.exchanges, c.minutes) for c in r.time_bank.by_category)
    return Table("hours-by-category", ("category", "exchanges", "minutes"), rows)


def _federation(r: SustainabilityReport) -> Table:
    header = (
        "link_id", "partner", "status", "commodity", "partner_commodity", "rate_numerator",
        "rate_denominator", "owed", "limit_we_owe", "we_owe_used", "limit_they_owe",
        "they_owe_used", "sent_count", "sent", "received_count", "received",
    )  # fmt: skip
    rows = tuple(
        (str(link.link_id), link.partner_name, link.status, c.commodity, c.partner_commodity,
         c.rate_numerator, c.rate_denominator, c.owed, c.limit_we_owe, c.we_owe_used,
         c.limit_they_owe, c.they_owe_used, c.sent_count, c.sent, c.received_count, c.received)
        for link in r.federation.links
        for c in link.commodities
    )  # fmt: skip
    return Table("federation", header, rows)


def _glossary(r: SustainabilityReport) -> Table:
    return Table(
        "glossary", ("term", "definition"), tuple((g.term, g.definition) for g in r.glossary)
    )


SECTIONS: dict[str, Callable[[SustainabilityReport], Table]] = {
    "report": _about,
    "balance-sheet": _balance_sheet,
    "income-statement": _income_statement,
    "cash-flow": _cash_flow,
    "pending": _pending,
    "budget-vs-actual": _budget,
    "resilience": _resilience,
    "self-sufficiency": _self_sufficiency,
    "time-bank": _time_bank,
    "hours-given": lambda r: _members("hours-given", r),
    "burnout-watch": lambda r: _members("burnout-watch", r),
    "support-watch": lambda r: _members("support-watch", r),
    "hours-by-category": _categories,
    "federation": _federation,
    "glossary": _glossary,
}
"""Every section by name, in the order of the workbook's sheets."""


def tables(report: SustainabilityReport) -> list[Table]:
    return [build(report) for build in SECTIONS.values()]
