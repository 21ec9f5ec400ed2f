"""What each page shows, computed from the use cases into plain values for the templates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from api.web.session import Viewer
from ledger.books.service import Ledger
from ledger.kernel.model import HOURS, Account, Balance
from ledger.kernel.quantity import Unit, show, unit_for, units_of
from ledger.timebank.exchanges import Exchange
from ledger.timebank.member_overview import (
    CommunityMonth,
    DirectoryEntry,
    MemberMonth,
    MemberOverview,
)
from reports.service import Reports
from reports.values import SustainabilityReport

RECENT_COUNT = 20


@dataclass(frozen=True, slots=True)
class HoursCard:
    """The member's hours, in minutes, in the credit-normal direction (positive: gave more)."""

    posted_minutes: int
    pending_minutes: int
    can_receive_minutes: int | None
    """How much more help the lower limit still allows; None without a limit."""
    can_give_minutes: int | None
    month: MemberMonth


@dataclass(frozen=True, slots=True)
class OtherBalance:
    name: str
    commodity: str
    amount: str
    """Posted balance in the commodity's own unit, exact (``EUR 12.50``, ``−4 jars of honey``)."""
    negative: bool


@dataclass(frozen=True, slots=True)
class Home:
    hours: HoursCard
    others: list[OtherBalance]
    waiting_for_you: int
    """Exchanges the member received and must confirm or decline."""


@dataclass(frozen=True, slots=True)
class ExchangeLine:
    exchange: Exchange
    given: bool
    """True when the viewer gave the help."""
    other_name: str


def hours_card(account: Account, month: MemberMonth) -> HoursCard:
    balance: Balance = account.balance
    can_receive = None
    if account.balance_min is not None:
        can_receive = max(0, balance.available - account.balance_min)
    can_give = None
    if account.balance_max is not None:
        can_give = max(0, account.balance_max - balance.ceiling)
    return HoursCard(balance.posted, balance.pending, can_receive, can_give, month)


async def home(ledger: Ledger, viewer: Viewer, today: date) -> Home:
    community_id, member = viewer.community.id, viewer.member
    accounts = await ledger.list_accounts(community_id, member_id=member.id)
    units = units_of(await ledger.list_commodities(community_id))
    overview = MemberOverview(ledger)
    month = await overview.member_month(community_id, member.id, today)
    _, to_answer = await overview.recent(community_id, member.id, 1)
    hours = next(a for a in accounts if a.id == member.hours_account_id)
    others = [
        OtherBalance(
            a.name,
            a.commodity,
            show(a.balance.posted, unit_for(a.commodity, units)),
            a.balance.posted < 0,
        )
        for a in accounts
        if a.commodity != HOURS and not a.closed
    ]
    return Home(hours_card(hours, month), others, len(to_answer))


def lines(
    exchanges: list[Exchange], viewer: Viewer, names: dict[uuid.UUID, str]
) -> list[ExchangeLine]:
    me = viewer.member.id
    result = []
    for exchange in exchanges:
        given = exchange.provider_member_id == me
        other = exchange.receiver_member_id if given else exchange.provider_member_id
        result.append(ExchangeLine(exchange, given, names.get(other, "?")))
    return result


async def exchanges(
    ledger: Ledger, viewer: Viewer
) -> tuple[list[ExchangeLine], list[ExchangeLine], list[DirectoryEntry]]:
    """The viewer's recent exchanges, those waiting for their answer, and whom they may record
    help for (everyone else in the community)."""
    overview = MemberOverview(ledger)
    community_id = viewer.community.id
    directory = await overview.directory(community_id)
    names = {entry.member_id: entry.name for entry in directory}
    recent, to_answer = await overview.recent(community_id, viewer.member.id, RECENT_COUNT)
    others = [entry for entry in directory if entry.member_id != viewer.member.id]
    return lines(recent, viewer, names), lines(to_answer, viewer, names), others


async def community(ledger: Ledger, viewer: Viewer, today: date) -> CommunityMonth:
    return await MemberOverview(ledger).community_month(viewer.community.id, today)


@dataclass(frozen=True, slots=True)
class FundStatus:
    commodity: str
    balance: str
    """In the commodity's own unit, exact (``EUR 1,250.00``)."""
    months_covered: str | None
    """Months of essential expenses the fund would carry at the trailing burn (``3.4``)."""
    target_status: str


@dataclass(frozen=True, slots=True)
class ReportHeadline:
    """Community-wide figures of the latest stored sustainability report (no member's name)."""

    period: str
    period_start: date
    period_end: date
    exchanges: int
    minutes_exchanged: int
    active_members: int
    members: int
    participation_percent: str | None
    earned_share_percent: tuple[tuple[str, str], ...]
    """Per money commodity: earned income as a share of expenses."""
    funds: tuple[FundStatus, ...]


TENTH = Decimal("0.1")


def _percent(ratio: Decimal | None) -> str | None:
    return None if ratio is None else f"{(ratio * 100).quantize(Decimal(1))}"


def headline(report: SustainabilityReport) -> ReportHeadline:
    units = {unit.code: Unit(unit.code, unit.name, unit.scale) for unit in report.units}
    time_bank = report.time_bank
    funds = tuple(
        FundStatus(
            fund.commodity,
            show(fund.balance, unit_for(fund.commodity, units)),
            None
            if fund.months_covered is None
            else f"{fund.months_covered.quantize(Decimal('0.1'))}",
            fund.target_status,
        )
        for fund in report.resilience.emergency_funds
    )
    earned = tuple(
        (series.commodity, share)
        for series in report.self_sufficiency
        if series.trend and (share := _percent(series.trend[-1].earned_share_of_expenses))
    )
    return ReportHeadline(
        report.period.label,
        report.period.start,
        report.period.end,
        time_bank.exchanges,
        time_bank.minutes_exchanged,
        time_bank.active_members,
        time_bank.members,
        _percent(time_bank.participation_rate),
        earned,
        funds,
    )


async def latest_headline(reports: Reports, viewer: Viewer) -> ReportHeadline | None:
    """The headline of the stored report of the most recently closed period (the shortest one
    when a month, a quarter and a year closed together), or None before the first snapshot."""
    snapshots = await reports.list_snapshots(viewer.community)
    if not snapshots:
        return None
    latest = max(snapshots, key=lambda row: (row.period_end, row.period_start))
    return headline(await reports.snapshot(viewer.community, latest.id))
