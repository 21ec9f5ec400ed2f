"""Pure builders of the resilience and self-sufficiency sections (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from reports import classification
from reports.financial import Movements, commodities_of, normal_amount
from reports.period import Period
from reports.queries.budgets import FundSetting
from reports.queries.figures import AccountRow, FundRow
from reports.queries.movements import Movement
from reports.ratios import ratio
from reports.values import (
    EmergencyFund,
    PeriodOut,
    RestrictedFund,
    SelfSufficiency,
    SelfSufficiencyPoint,
)

BURN_MONTHS = 3
"""The trailing window of the burn rate, in calendar months."""

_NONE = Movement(0, 0)


def period_out(period: Period) -> PeriodOut:
    return PeriodOut(period.start, period.end, period.label)


def _sum(accounts: list[AccountRow], moved: Movements) -> int:
    return sum(normal_amount(a, moved.get(a.id, _NONE)) for a in accounts)


def emergency_funds(
    accounts: list[AccountRow],
    to_date: Movements,
    burn: Movements,
    burn_months: int,
    setting: FundSetting | None = None,
) -> tuple[EmergencyFund, ...]:
    """Per commodity holding an emergency fund: its balance, its target, and the months of
    essential expenses it covers at the average monthly burn of the trailing window. The fund is
    the account the governance settings name, else the accounts the chart designates (or coded
    ``Assets:EmergencyFund``); the target is the settings' amount, or their number of months of
    that same monthly burn."""
    designated = None if setting is None else setting.account_id
    funds = []
    for commodity in commodities_of(accounts):
        own = [a for a in accounts if a.commodity == commodity]
        fund = [a for a in own if a.id == designated] or [
            a
            for a in own
            if designated is None
            and classification.is_emergency_fund(a.type, a.code, a.designation)
        ]
        if not fund:
            continue
        balance = _sum(fund, to_date)
        burned = _sum(classification.essential_expenses(own), burn)
        monthly = int((Decimal(burned) / burn_months).quantize(Decimal(1), ROUND_HALF_EVEN))
        target = None if setting is None else _target(setting, monthly)
        funds.append(
            EmergencyFund(
                commodity, balance, target, _target_status(balance, target), monthly,
                ratio(balance * burn_months, burned) if burned > 0 else None,
            )
        )  # fmt: skip
    return tuple(funds)


def _target(setting: FundSetting, monthly: int) -> int | None:
    if setting.target is not None:
        return setting.target
    if setting.target_months is not None:
        return setting.target_months * monthly
    return None


def _target_status(balance: int, target: int | None) -> str:
    if target is None:
        return classification.NO_TARGET
    return classification.TARGET_MET if balance >= target else classification.TARGET_SHORT


def self_sufficiency(
    accounts: list[AccountRow], trend: Sequence[tuple[Period, Movements]]
) -> tuple[SelfSufficiency, ...]:
    """Per commodity with income or expenses: earned income over expenses and external support
    over income, for each period of the trend (oldest first)."""
    found = []
    for commodity in commodities_of(accounts):
        income = [a for a in accounts if a.commodity == commodity and a.type == "income"]
        expenses = [a for a in accounts if a.commodity == commodity and a.type == "expense"]
        if not income and not expenses:
            continue
        external = [a for a in income if classification.is_external_support(a.code, a.designation)]
        earned = [a for a in income if a not in external]
        points = []
        for period, moved in trend:
            earned_amount, external_amount = _sum(earned, moved), _sum(external, moved)
            total, spent = earned_amount + external_amount, _sum(expenses, moved)
            points.append(
                SelfSufficiencyPoint(
                    period_out(period), earned_amount, external_amount, total, spent,
                    ratio(earned_amount, spent), ratio(external_amount, total),
                )
            )  # fmt: skip
        found.append(SelfSufficiency(commodity, tuple(points)))
    return tuple(found)


def restricted_funds(
    accounts: list[AccountRow], funds: list[FundRow], to_date: Movements, during: Movements
) -> tuple[RestrictedFund, ...]:
    """Each restricted fund's balance at the period's end, and what came in and went out."""
    by_id = {a.id: a for a in accounts}
    found = []
    for fund in funds:
        account = by_id[fund.account_id]
        moved = during.get(account.id, _NONE)
        balance = normal_amount(account, to_date.get(account.id, _NONE))
        found.append(
            RestrictedFund(
                fund.name, account.code, account.commodity, balance, moved.debits, moved.credits
            )
        )
    return tuple(found)


def restricted_funds_status(funds: tuple[RestrictedFund, ...]) -> str:
    if not funds:
        return classification.NONE_DESIGNATED
    return f"{len(funds)} designated" if len(funds) > 1 else "1 designated"
