"""Which accounts play which part in the sustainability report — a convention on account codes
until the cooperative-economy issue lands real designations (budgets, funds, business lines).

This is the only module that knows the convention; replacing it replaces the classification.

- Account codes are ``Root:Group[:…]`` (``Assets:Bank``, ``Income:Farm``, ``Expenses:Food``).
- A **business line** is the second segment of an income account's code (``Income:Farm`` →
  ``Farm``); an **expense category** is the second segment of an expense account's code.
- **External support** is income under ``Income:Grants``, ``Income:Donations`` or
  ``Income:Crowdfunding``; every other income is **earned income**.
- **Cash and bank** accounts are asset accounts under ``Assets:Cash`` or ``Assets:Bank``.
- The **emergency fund** is ``Assets:EmergencyFund`` (and anything under it); no target is set.
- **Essential expenses** are all expenses: nothing designates some as essential yet.
- No budget is adopted and no restricted fund is designated.
- **Member time accounts** have codes ``member:<uuid>`` and a member.
"""

from __future__ import annotations

from typing import Final

EXTERNAL_SUPPORT_LINES: Final = frozenset({"Grants", "Donations", "Crowdfunding"})
CASH_GROUPS: Final = frozenset({"Cash", "Bank"})
EMERGENCY_FUND_GROUP: Final = "EmergencyFund"

NO_TARGET: Final = "no target set"
NO_BUDGET: Final = "no adopted budget"
NONE_DESIGNATED: Final = "none designated"
ESSENTIAL_EXPENSES_BASIS: Final = "all expenses (none are designated essential yet)"


def _segments(code: str) -> list[str]:
    return code.split(":")


def group_of(code: str) -> str:
    """The second segment of a ``Root:Group[:…]`` code; the whole code when there is none."""
    parts = _segments(code)
    return parts[1] if len(parts) > 1 and parts[1] else code


def business_line(income_code: str) -> str:
    return group_of(income_code)


def expense_category(expense_code: str) -> str:
    return group_of(expense_code)


def is_external_support(income_code: str) -> bool:
    return group_of(income_code) in EXTERNAL_SUPPORT_LINES


def is_cash_or_bank(account_type: str, code: str) -> bool:
    return (
        account_type == "asset"
        and _segments(code)[0] == "Assets"
        and group_of(code) in (CASH_GROUPS)
    )


def is_emergency_fund(account_type: str, code: str) -> bool:
    parts = _segments(code)
    return (
        account_type == "asset"
        and parts[0] == "Assets"
        and group_of(code) == (EMERGENCY_FUND_GROUP)
    )
