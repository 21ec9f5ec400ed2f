"""The sustainability report: read every aggregate in one snapshot, then build the values.

The queries (``reports.queries.figures``) return aggregates; the builders
(``financial``, ``resilience``, ``timebank``) are pure; this module only sequences them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ledger.kernel.model import Community
from reports import budget_vs_actual, classification, financial, resilience
from reports.financial import PeriodMovements
from reports.glossary import GLOSSARY
from reports.period import Period
from reports.queries import budgets as budget_queries
from reports.queries import figures
from reports.queries.figures import HasConnection, Window
from reports.resilience import BURN_MONTHS, period_out
from reports.timebank import Thresholds, TimeBankFigures, time_bank
from reports.values import Financial, Resilience, SustainabilityReport, Unit

DEFAULT_THRESHOLDS = Thresholds()
TREND_PERIODS = 4
"""Points of the self-sufficiency trend, the report's period included."""


class ReadUnits(Protocol):
    """Opens read units of work that lend their connection (``ledger.store``'s factory)."""

    def __call__(self, *, write: bool) -> AbstractAsyncContextManager[HasConnection]: ...


@dataclass(frozen=True, slots=True)
class ReportRequest:
    community: Community
    period: Period
    thresholds: Thresholds = DEFAULT_THRESHOLDS


async def sustainability_report(
    units: ReadUnits, request: ReportRequest, clock: Callable[[], datetime]
) -> SustainabilityReport:
    period, cid = request.period, request.community.id
    async with units(write=False) as uow:
        conn = uow.connection
        accounts = classification.inherit_designations(await figures.list_accounts(conn, cid))
        known_units = tuple(
            Unit(c.code, c.name, c.scale) for c in await figures.list_commodities(conn, cid)
        )
        trend = [period.shifted(step) for step in range(TREND_PERIODS - 1, -1, -1)]
        burn_window = period.trailing_months(BURN_MONTHS)
        windows = {
            "to_date": Window(None, period.end),
            "before": Window(None, period.start - timedelta(days=1)),
            "previous": Window(period.previous.start, period.previous.end),
            "year_earlier": Window(period.year_earlier.start, period.year_earlier.end),
            "pending": Window(period.start, period.end, status="pending"),
            "burn": Window(burn_window.start, burn_window.end),
            **{f"trend{i}": Window(p.start, p.end) for i, p in enumerate(trend)},
        }
        moved = await figures.movements(conn, cid, windows)
        to_date, current = moved["to_date"], moved[f"trend{len(trend) - 1}"]
        trend_moves = [(p, moved[f"trend{i}"]) for i, p in enumerate(trend)]
        compared = PeriodMovements(current, moved["previous"], moved["year_earlier"])
        pending_count = await figures.pending_entry_count(conn, cid, period.start, period.end)
        exchanged = await figures.exchanges(conn, cid, period.start, period.end)
        hours = TimeBankFigures(
            members=await figures.list_members(conn, cid),
            accounts=accounts,
            exchanges=exchanged.in_period,
            exchanged_before=exchanged.before,
            categories=exchanged.categories,
            to_date=to_date,
        )
        fund_rows = await figures.list_funds(conn, cid)
        fingerprint = await figures.fingerprint(conn, cid)
        budget_rows = await budget_queries.budget_lines_in_force(
            conn, cid, period.start, period.end
        )
        fund_setting = await budget_queries.emergency_fund_setting(conn, cid)
    funds = resilience.restricted_funds(accounts, fund_rows, to_date, current)
    return SustainabilityReport(
        community_slug=request.community.slug,
        community_name=request.community.name,
        period=period_out(period),
        previous_period=period_out(period.previous),
        year_earlier_period=period_out(period.year_earlier),
        generated_at=clock(),
        fingerprint=fingerprint,
        units=known_units,
        financial=Financial(
            balance_sheets=financial.balance_sheets(accounts, to_date),
            income_statements=financial.income_statements(accounts, compared),
            cash_flows=financial.cash_flows(accounts, moved["before"], current),
            pending_entries=pending_count,
            pending=financial.pending(accounts, moved["pending"]),
            budget=budget_vs_actual.status(budget_rows),
            budget_lines=budget_vs_actual.lines(budget_rows),
        ),
        resilience=Resilience(
            burn_window=period_out(burn_window),
            emergency_funds=resilience.emergency_funds(
                accounts, to_date, moved["burn"], BURN_MONTHS, fund_setting
            ),
            essential_expenses_basis=classification.essential_basis(accounts),
            restricted_funds=resilience.restricted_funds_status(funds),
            funds=funds,
        ),
        self_sufficiency=resilience.self_sufficiency(accounts, trend_moves),
        time_bank=time_bank(period, hours, request.thresholds),
        glossary=GLOSSARY,
    )
