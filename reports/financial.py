"""Pure builders of the financial section from per-account movements (no I/O)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ledger.kernel.model import HOURS
from reports import classification
from reports.queries.figures import AccountRow
from reports.queries.movements import Movement
from reports.values import (
    BalanceSheet,
    CashFlow,
    CashLine,
    Compared,
    IncomeStatement,
    Line,
    Pending,
)

Movements = Mapping[uuid.UUID, Movement]
_NONE = Movement(0, 0)
MEMBER_LINE = "member:*"


def normal_amount(account: AccountRow, movement: Movement) -> int:
    """The movement in the account's normal direction (debit-normal: debits − credits)."""
    signed = movement.debits - movement.credits
    return signed if account.type in ("asset", "expense") else -signed


def _amount(account: AccountRow, moved: Movements) -> int:
    return normal_amount(account, moved.get(account.id, _NONE))


def commodities_of(accounts: Iterable[AccountRow]) -> list[str]:
    return sorted({account.commodity for account in accounts})


def members_line(commodity: str, names: Mapping[str, str]) -> str:
    """The one line of the members' accounts in ``commodity``, by the commodity's name (``Members'
    accounts in jars of honey``, not ``HONEY``); its code when it has no name."""
    if commodity == HOURS:
        return "Member time accounts"
    name = names.get(commodity, commodity)
    return f"Members' accounts in {name if name == commodity else name[:1].lower() + name[1:]}"


def balance_sheets(
    accounts: list[AccountRow], to_date: Movements, names: Mapping[str, str] | None = None
) -> tuple[BalanceSheet, ...]:
    """Per commodity with any balance-sheet account: balances at the end of the period.
    ``names``: the commodities' names by code."""
    sheets = []
    for commodity in commodities_of(accounts):
        own = [a for a in accounts if a.commodity == commodity]
        sides: dict[str, list[Line]] = {"asset": [], "liability": [], "equity": []}
        members_total: dict[str, int] = defaultdict(int)
        for account in own:
            if account.type not in sides:
                continue
            if account.member_id is not None:
                members_total[account.type] += _amount(account, to_date)
            else:
                sides[account.type].append(
                    Line(account.code, account.name, _amount(account, to_date))
                )
        label = members_line(commodity, names or {})
        for side, total in members_total.items():
            sides[side].append(Line(MEMBER_LINE, label, total))
        earnings = sum(_amount(a, to_date) * (1 if a.type == "income" else -1)
                       for a in own if a.type in ("income", "expense"))  # fmt: skip
        if not any(sides.values()) and earnings == 0:
            continue
        sheets.append(
            BalanceSheet(
                commodity,
                tuple(sides["asset"]),
                tuple(sides["liability"]),
                tuple(sides["equity"]),
                sum(line.amount for line in sides["asset"]),
                sum(line.amount for line in sides["liability"]),
                sum(line.amount for line in sides["equity"]),
                earnings,
            )
        )
    return tuple(sheets)


@dataclass(frozen=True, slots=True)
class PeriodMovements:
    current: Movements
    previous: Movements
    year_earlier: Movements


def _compare(
    name: str, accounts: list[AccountRow], moved: PeriodMovements, code: str = ""
) -> Compared:
    def total(m: Movements) -> int:
        return sum(_amount(a, m) for a in accounts)

    return Compared(
        name, total(moved.current), total(moved.previous), total(moved.year_earlier), code
    )


def _grouped(
    accounts: list[AccountRow], name: Callable[[str], str], moved: PeriodMovements
) -> tuple[Compared, ...]:
    """A line per group (``Income:Farm``), named as people read it, in the order of the codes."""
    groups: dict[str, list[AccountRow]] = defaultdict(list)
    for account in accounts:
        groups[classification.group_code(account.code)].append(account)
    return tuple(_compare(name(code), groups[code], moved, code) for code in sorted(groups))


def income_statements(
    accounts: list[AccountRow], moved: PeriodMovements
) -> tuple[IncomeStatement, ...]:
    """Per commodity with income or expense accounts: income by business line and expenses by
    category, for the period and the two it is compared with."""
    statements = []
    name = classification.group_names(accounts)
    for commodity in commodities_of(accounts):
        income = [a for a in accounts if a.commodity == commodity and a.type == "income"]
        expenses = [a for a in accounts if a.commodity == commodity and a.type == "expense"]
        if not income and not expenses:
            continue
        total_income = _compare("Total income", income, moved)
        total_expenses = _compare("Total expenses", expenses, moved)
        net = Compared(
            "Net result",
            total_income.current - total_expenses.current,
            total_income.previous - total_expenses.previous,
            total_income.year_earlier - total_expenses.year_earlier,
        )
        statements.append(
            IncomeStatement(
                commodity,
                _grouped(income, name, moved),
                _grouped(expenses, name, moved),
                total_income,
                total_expenses,
                net,
            )
        )
    return tuple(statements)


def cash_flows(
    accounts: list[AccountRow], before: Movements, during: Movements
) -> tuple[CashFlow, ...]:
    """Per commodity, money into (debits) and out of (credits) cash and bank accounts."""
    flows = []
    for commodity in commodities_of(accounts):
        lines = []
        for account in accounts:
            if account.commodity != commodity:
                continue
            if not classification.is_cash_or_bank(account.type, account.code, account.designation):
                continue
            opening = _amount(account, before)
            moved = during.get(account.id, _NONE)
            closing = opening + moved.debits - moved.credits
            lines.append(
                CashLine(account.code, account.name, opening, moved.debits, moved.credits, closing)
            )
        if lines:
            total = CashLine(
                "*",
                "All cash and bank accounts",
                *(
                    sum(getattr(line, field) for line in lines)
                    for field in ("opening", "inflow", "outflow", "closing")
                ),
            )
            flows.append(CashFlow(commodity, tuple(lines), total))
    return tuple(flows)


def pending(accounts: list[AccountRow], moved: Movements) -> tuple[Pending, ...]:
    """Per commodity, the income and expenses of pending entries dated in the period."""
    found = []
    for commodity in commodities_of(accounts):
        own = [a for a in accounts if a.commodity == commodity and a.id in moved]
        income = sum(_amount(a, moved) for a in own if a.type == "income")
        expenses = sum(_amount(a, moved) for a in own if a.type == "expense")
        if income or expenses:
            found.append(Pending(commodity, income, expenses))
    return tuple(found)
