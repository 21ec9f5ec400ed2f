"""The sustainability report: read every aggregate in one snapshot, then build the values.

The queries (``reports.queries``: ``figures``, ``movements``, ``timebank``, ``budgets``,
``federation``) return aggregates; the builders (``financial``, ``resilience``, ``timebank``,
``federation``) are pure; this
module only sequences them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.kernel.model import Community
from ledger.kernel.uow import UnitOfWorkFactory
from reports import budget_vs_actual, classification, federation, financial, resilience
from reports.financial import Movements, PeriodMovements
from reports.glossary import GLOSSARY
from reports.period import Period
from reports.queries import ConnectionOf, figures, movements
from reports.queries import budgets as budget_queries
from reports.queries import federation as federation_queries
from reports.queries import timebank as timebank_queries
from reports.queries.budgets import BudgetLineFigures, FundSetting
from reports.queries.figures import AccountRow, FundRow
from reports.queries.journal import DateRange, first_date
from reports.queries.movements import Window
from reports.resilience import BURN_MONTHS, period_out
from reports.timebank import Thresholds, TimeBankFigures, time_bank
from reports.values import Financial, Resilience, SustainabilityReport, Unit

DEFAULT_THRESHOLDS = Thresholds()
TREND_PERIODS = 4
"""Points of the self-sufficiency trend, the report's period included."""


@dataclass(frozen=True, slots=True)
class ReportRequest:
    community: Community
    period: Period
    thresholds: Thresholds = DEFAULT_THRESHOLDS


async def sustainability_report(
    units: UnitOfWorkFactory[object],
    connection_of: ConnectionOf,
    request: ReportRequest,
    clock: Callable[[], datetime],
) -> SustainabilityReport:
    """The report of ``request``, every figure read on the connection of one read unit of work
    from ``units`` (``connection_of``: see ``reports.queries``), so it sees one snapshot."""
    period, cid = request.period, request.community.id
    trend = [period.shifted(step) for step in range(TREND_PERIODS - 1, -1, -1)]
    burn_window = period.trailing_months(BURN_MONTHS)
    async with units(write=False) as uow:
        conn = connection_of(uow)
        accounts = classification.inherit_designations(await figures.list_accounts(conn, cid))
        known_units = tuple(
            Unit(c.code, c.name, c.scale) for c in await figures.list_commodities(conn, cid)
        )
        moved = await movements.movements(conn, cid, _windows(period, trend, burn_window))
        pending_count = await figures.pending_entry_count(conn, cid, period.start, period.end)
        exchanged = await timebank_queries.exchanges(conn, cid, period.start, period.end)
        hours = TimeBankFigures(
            members=await figures.list_members(conn, cid),
            accounts=accounts,
            exchanges=exchanged.in_period,
            exchanged_before=exchanged.before,
            categories=exchanged.categories,
            to_date=moved["to_date"],
        )
        fund_rows = await figures.list_funds(conn, cid)
        fingerprint = await figures.fingerprint(conn, cid)
        budget_rows = await budget_queries.budget_lines_in_force(
            conn, cid, period.start, period.end
        )
        fund_setting = await budget_queries.emergency_fund_setting(conn, cid)
        federated = federation.federation(
            await federation_queries.links(conn, cid),
            accounts,
            moved["to_date"],
            await federation_queries.crossed(conn, cid, period.start, period.end),
            await federation_queries.by_category(conn, cid, period.start, period.end),
        )
        history_from = await first_date(conn, cid, DateRange())
    read = _Read(
        accounts, moved, trend, pending_count, fund_rows, budget_rows, fund_setting, known_units
    )
    return SustainabilityReport(
        community_slug=request.community.slug,
        community_name=request.community.name,
        period=period_out(period),
        previous_period=period_out(period.previous),
        year_earlier_period=period_out(period.year_earlier),
        generated_at=clock(),
        fingerprint=fingerprint,
        units=known_units,
        financial=_financial(read),
        resilience=_resilience(read, burn_window),
        self_sufficiency=resilience.self_sufficiency(accounts, read.trend_moves),
        time_bank=time_bank(period, hours, request.thresholds),
        glossary=GLOSSARY,
        federation=federated,
        history_from=history_from,
    )


def _windows(period: Period, trend: list[Period], burn_window: Period) -> dict[str, Window]:
    """Every window of entries the report's sections read, summed in one pass."""
    return {
        "to_date": Window(None, period.end),
        "before": Window(None, period.start - timedelta(days=1)),
        "previous": Window(period.previous.start, period.previous.end),
        "year_earlier": Window(period.year_earlier.start, period.year_earlier.end),
        "pending": Window(period.start, period.end, status="pending"),
        "burn": Window(burn_window.start, burn_window.end),
        **{f"trend{i}": Window(p.start, p.end) for i, p in enumerate(trend)},
    }


@dataclass(frozen=True, slots=True)
class _Read:
    """What the financial and resilience sections are built from, read in the one snapshot."""

    accounts: list[AccountRow]
    moved: Mapping[str, Movements]
    trend: list[Period]
    pending_count: int
    fund_rows: list[FundRow]
    budget_rows: list[BudgetLineFigures]
    fund_setting: FundSetting | None
    units: tuple[Unit, ...]

    @property
    def to_date(self) -> Movements:
        return self.moved["to_date"]

    @property
    def current(self) -> Movements:
        """The report's own period: the last point of the trend."""
        return self.moved[f"trend{len(self.trend) - 1}"]

    @property
    def trend_moves(self) -> list[tuple[Period, Movements]]:
        return [(p, self.moved[f"trend{i}"]) for i, p in enumerate(self.trend)]


def _financial(read: _Read) -> Financial:
    accounts, current = read.accounts, read.current
    compared = PeriodMovements(current, read.moved["previous"], read.moved["year_earlier"])
    return Financial(
        balance_sheets=financial.balance_sheets(
            accounts, read.to_date, {unit.code: unit.name for unit in read.units}
        ),
        income_statements=financial.income_statements(accounts, compared),
        cash_flows=financial.cash_flows(accounts, read.moved["before"], current),
        pending_entries=read.pending_count,
        pending=financial.pending(accounts, read.moved["pending"]),
        budget=budget_vs_actual.status(read.budget_rows),
        budget_lines=budget_vs_actual.lines(read.budget_rows, classification.group_names(accounts)),
    )


def _resilience(read: _Read, burn_window: Period) -> Resilience:
    accounts = read.accounts
    funds = resilience.restricted_funds(accounts, read.fund_rows, read.to_date, read.current)
    return Resilience(
        burn_window=period_out(burn_window),
        emergency_funds=resilience.emergency_funds(
            accounts, read.to_date, read.moved["burn"], BURN_MONTHS, read.fund_setting
        ),
        essential_expenses_basis=classification.essential_basis(accounts),
        restricted_funds=resilience.restricted_funds_status(funds),
        funds=funds,
    )
