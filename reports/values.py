"""The sustainability report as immutable values — what every form (JSON, HTML, PDF, XLSX, CSV)
renders. Amounts are integers in their commodity's smallest unit (minutes for HOURS, cents for a
money commodity of scale 2); figures of different commodities are never added. Ratios are
decimals with four places (``0.4231`` = 42.31 %), ``None`` when undefined (division by zero).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PeriodOut:
    start: date
    end: date
    label: str


@dataclass(frozen=True, slots=True)
class Unit:
    """A commodity of the report: amounts of ``HOURS`` are minutes; others have ``scale``
    decimal places (2: cents)."""

    code: str
    name: str
    scale: int


@dataclass(frozen=True, slots=True)
class Line:
    """An account (or a group of accounts) and its amount in the normal direction."""

    code: str
    name: str
    amount: int


@dataclass(frozen=True, slots=True)
class BalanceSheet:
    """Posted balances at the end of the period. Member time accounts are one line; ``earnings``
    is income − expenses to date, not yet closed to equity, so that
    ``total_assets == total_liabilities + total_equity + earnings``."""

    commodity: str
    assets: tuple[Line, ...]
    liabilities: tuple[Line, ...]
    equity: tuple[Line, ...]
    total_assets: int
    total_liabilities: int
    total_equity: int
    earnings: int


@dataclass(frozen=True, slots=True)
class Compared:
    """A figure for the period, the previous period and the same period a year earlier."""

    name: str
    """As people read it: a group's account name (``Seeds, feed and farm supplies``), a total's
    words (``Total income``)."""
    current: int
    previous: int
    year_earlier: int
    code: str = ""
    """The group's code (``Expenses:FarmSupplies``), a stable key for programs; ``""`` for a
    total, and in reports stored before it was kept."""


@dataclass(frozen=True, slots=True)
class IncomeStatement:
    commodity: str
    income: tuple[Compared, ...]
    """Per business line."""
    expenses: tuple[Compared, ...]
    """Per expense category."""
    total_income: Compared
    total_expenses: Compared
    net: Compared


@dataclass(frozen=True, slots=True)
class CashLine:
    code: str
    name: str
    opening: int
    inflow: int
    outflow: int
    closing: int


@dataclass(frozen=True, slots=True)
class CashFlow:
    commodity: str
    accounts: tuple[CashLine, ...]
    total: CashLine


@dataclass(frozen=True, slots=True)
class Pending:
    """Entries still pending, dated in the period: not in any actual figure above."""

    commodity: str
    income: int
    expenses: int


@dataclass(frozen=True, slots=True)
class BudgetLineReport:
    """A line of an adopted budget version in force in the period. ``actual`` (posted) and
    ``pending`` run from the budget period's first day to the earlier of its last day and the
    report's end, in the accounts' normal direction; ``variance`` is planned − actual; ``used``
    is actual / planned (None when planned is 0)."""

    budget: str
    period: str
    version: int
    account_group: str
    commodity: str
    planned: int
    actual: int
    pending: int
    variance: int
    used: Decimal | None
    kind: str = ""
    """The account type of the line's accounts: ``income`` (under plan is a shortfall) or
    ``expense`` (over plan is an overrun); ``""`` in reports stored before it was kept."""
    budget_start: date | None = None
    budget_end: date | None = None
    """The budget's own period; its actuals run from ``budget_start`` to the earlier of
    ``budget_end`` and the report's end."""
    name: str = ""
    """The account group as people read it: its account's name (``Tools and repairs`` for
    ``Expenses:Tools``); ``""`` in reports stored before it was kept."""


@dataclass(frozen=True, slots=True)
class Financial:
    balance_sheets: tuple[BalanceSheet, ...]
    income_statements: tuple[IncomeStatement, ...]
    cash_flows: tuple[CashFlow, ...]
    pending_entries: int
    pending: tuple[Pending, ...]
    budget: str
    """Which adopted budgets are in force, or that none is."""
    budget_lines: tuple[BudgetLineReport, ...] = ()


@dataclass(frozen=True, slots=True)
class EmergencyFund:
    commodity: str
    balance: int
    target: int | None
    target_status: str
    monthly_essential_expenses: int
    """Average per month over the burn window, rounded half-even."""
    months_covered: Decimal | None


@dataclass(frozen=True, slots=True)
class RestrictedFund:
    """A restricted fund's account over the period, smallest unit of ``commodity``."""

    name: str
    code: str
    commodity: str
    balance: int
    """Posted balance at the end of the period: what may still be spent on its purpose."""
    received: int
    """Money into the fund during the period (debits of its account)."""
    spent: int
    """Money out of the fund during the period (credits of its account)."""


@dataclass(frozen=True, slots=True)
class Resilience:
    burn_window: PeriodOut
    emergency_funds: tuple[EmergencyFund, ...]
    essential_expenses_basis: str
    restricted_funds: str
    """"none designated", or how many funds the table ``funds`` lists."""
    funds: tuple[RestrictedFund, ...] = ()


@dataclass(frozen=True, slots=True)
class SelfSufficiencyPoint:
    period: PeriodOut
    earned_income: int
    external_support: int
    total_income: int
    expenses: int
    earned_share_of_expenses: Decimal | None
    external_share_of_income: Decimal | None


@dataclass(frozen=True, slots=True)
class SelfSufficiency:
    commodity: str
    trend: tuple[SelfSufficiencyPoint, ...]
    """Oldest first; the last point is the report's period."""


@dataclass(frozen=True, slots=True)
class MemberMinutes:
    member_id: uuid.UUID
    name: str
    minutes: int


@dataclass(frozen=True, slots=True)
class SupportWatch:
    member_id: uuid.UUID
    name: str
    balance: int
    """Posted HOURS balance at the end of the period, minutes (negative: owes time)."""
    balance_min: int


@dataclass(frozen=True, slots=True)
class CategoryMinutes:
    category: str
    exchanges: int
    minutes: int


@dataclass(frozen=True, slots=True)
class TimeBank:
    exchanges: int
    minutes_exchanged: int
    members: int
    active_members: int
    participation_rate: Decimal | None
    new_members: int
    dormant_members: int
    reciprocal_members: int
    reciprocity_rate: Decimal | None
    gini_given: Decimal | None
    top_decile_givers: int
    top_decile_share: Decimal | None
    burnout_watch_minutes: int
    burnout_watch: tuple[MemberMinutes, ...]
    support_watch_percent: int
    support_watch: tuple[SupportWatch, ...]
    given: tuple[MemberMinutes, ...]
    """Minutes given per member, largest first: the distribution the Gini measures."""
    by_category: tuple[CategoryMinutes, ...]


@dataclass(frozen=True, slots=True)
class LinkCommodity:
    """One commodity a link carries, as this community sees it, in this side's units."""

    commodity: str
    partner_commodity: str
    rate_numerator: int
    """The partner's units per unit of ours, as the exact ratio numerator/denominator."""
    rate_denominator: int
    owed: int
    """The clearing balance at the end of the period: positive, what this community owes the
    partner; negative, what the partner owes it."""
    limit_we_owe: int
    limit_they_owe: int
    """The limits of the terms in force (the stricter ones while newer terms await adoption)."""
    we_owe_used: Decimal | None
    they_owe_used: Decimal | None
    """Share of each limit in use (``None``: a limit of 0 with nothing owed that way)."""
    sent_count: int
    sent: int
    received_count: int
    received: int
    """Committed cross transfers dated in the period: paid out over the link, paid in."""


@dataclass(frozen=True, slots=True)
class FederationLink:
    link_id: uuid.UUID
    partner_name: str
    status: str
    commodities: tuple[LinkCommodity, ...]


@dataclass(frozen=True, slots=True)
class CrossCategory:
    category: str
    commodity: str
    transfers: int
    amount: int


@dataclass(frozen=True, slots=True)
class Federation:
    """The community's links (closed ones only while something is still owed) and what crossed
    them in the period; empty for a community that does not federate."""

    links: tuple[FederationLink, ...] = ()
    by_category: tuple[CrossCategory, ...] = ()


@dataclass(frozen=True, slots=True)
class GlossaryItem:
    term: str
    definition: str


@dataclass(frozen=True, slots=True)
class SustainabilityReport:
    community_slug: str
    community_name: str
    period: PeriodOut
    previous_period: PeriodOut
    year_earlier_period: PeriodOut
    generated_at: datetime
    fingerprint: str
    """SHA-256 of the ledger state the report was built from (see ``reports.queries.figures``)."""
    units: tuple[Unit, ...]
    financial: Financial
    resilience: Resilience
    self_sufficiency: tuple[SelfSufficiency, ...]
    time_bank: TimeBank
    glossary: tuple[GlossaryItem, ...]
    federation: Federation = field(default_factory=Federation)
    """Snapshots stored before federation decode with an empty section."""
    history_from: date | None = None
    """The earliest effective date of a posted entry: a period that ended before it has no
    figures at all (shown "—", not 0). None when the books are empty or the report was stored
    before it was kept."""

    def before_history(self, period: PeriodOut) -> bool:
        return self.history_from is not None and period.end < self.history_from
