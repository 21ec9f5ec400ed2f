"""The report as an HTML page that prints well: Jinja2 with autoescaping, inline SVG charts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import jinja2

from ledger.kernel.quantity import Unit
from reports.render import budget, charts, fmt
from reports.render.summary import summary
from reports.values import SustainabilityReport

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("reports.render", "templates"),
    autoescape=True,  # every text of the ledger (names, descriptions) is user input
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class _Formats:
    """The formatting helpers the template calls, bound to the report's units."""

    scales: dict[str, int]
    names: dict[str, str]

    def name(self, commodity: str) -> str:
        """The commodity's name (a partner's commodity we do not keep shows as its code)."""
        return self.names.get(commodity, commodity)

    def heading(self, commodity: str) -> str:
        """A commodity by name with its code (``Jars of honey (HONEY)``); HOURS by name."""
        name = self.names.get(commodity, commodity)
        return name if name.upper() == commodity else f"{name} ({commodity})"

    def label(self, commodity: str) -> str:
        """How a commodity is named beside its figures: money by its code (``EUR``, as in
        ``EUR 12.50``), hours and goods by name (``Jars of honey``, not ``HONEY``)."""
        return commodity if self.scales.get(commodity, 0) else self.name(commodity)

    def amount(self, value: int, commodity: str) -> str:
        return fmt.amount(value, commodity, self.scales.get(commodity, 0))

    def in_period(self, value: int, commodity: str, before_history: bool) -> str:
        """A figure of a period, or "—" for a period that ended before the books begin (no
        history is not a zero)."""
        return "—" if before_history else self.amount(value, commodity)

    def share(self, value: Decimal | None, before_history: bool) -> str:
        """A ratio of a period, "—" like its figures for a period before the books begin."""
        return "—" if before_history else fmt.percent(value)

    def money(self, commodity: str) -> Callable[[int], str]:
        return lambda value: self.amount(value, commodity)


def _charts(report: SustainabilityReport, formats: _Formats) -> dict[str, object]:
    trends = [
        charts.bar_chart(
            f"Income and expenses, {formats.label(s.commodity)}",
            [
                (
                    p.period.label,
                    [
                        ("earned", p.earned_income),
                        ("external", p.external_support),
                        ("expense", p.expenses),
                    ],
                )
                for p in s.trend
                if not report.before_history(p.period)
            ],
            formats.money(s.commodity),
            [
                ("earned", "earned income"),
                ("external", "external support"),
                ("expense", "expenses"),
            ],
        )
        for s in report.self_sufficiency
    ]
    lines = [
        charts.bar_chart(
            f"This period by line, {formats.label(s.commodity)}",
            [(c.name, [("earned", c.current)]) for c in s.income]
            + [(c.name, [("expense", c.current)]) for c in s.expenses],
            formats.money(s.commodity),
            [("earned", "income"), ("expense", "expenses")],
        )
        for s in report.financial.income_statements
    ]
    given = charts.bar_chart(
        "Hours given per member",
        [(g.name, [("hours", g.minutes)]) for g in report.time_bank.given],
        fmt.minutes,
    )
    categories = charts.bar_chart(
        "Hours by service category",
        [(c.category, [("hours", c.minutes)]) for c in report.time_bank.by_category],
        fmt.minutes,
    )
    return {"trends": trends, "lines": lines, "given": given, "categories": categories}


def render_html(report: SustainabilityReport) -> str:
    formats = _Formats(
        {unit.code: unit.scale for unit in report.units},
        {unit.code: unit.name for unit in report.units},
    )
    units = {unit.code: Unit(unit.code, unit.name, unit.scale) for unit in report.units}
    lines = budget.view(report, units)
    return _ENV.get_template("sustainability.html").render(
        r=report,
        f=formats,
        fmt=fmt,
        charts=_charts(report, formats),
        budget_lines=lines,
        summary=summary(report, units, lines),
    )
