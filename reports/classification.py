"""Which accounts play which part in the sustainability report.

An account's **designation** — set by a chart template (``ledger.economy.chart``) — decides first;
an
account without one falls back to the code convention below, so books kept before templates
existed (or extended by hand) keep their classification.

- Account codes are ``Root:Group[:…]`` (``Assets:Bank``, ``Income:Farm``, ``Expenses:Food``);
  a group rolls up the accounts under it (``Income:Farm:Eggs`` counts for ``Income:Farm``).
- A **business line** is the group (``Root:Group``) of an income account's code (``Income:Farm``
  for ``Income:Farm:Eggs``); an **expense category** is the group of an expense account's code.
  A group is shown by the name of its own account (``Expenses:FarmSupplies`` → "Seeds, feed and
  farm supplies"), and by its code's second segment only when it has no account of its own.
- **External support** is income designated so, or (undesignated) under ``Income:Grants``,
  ``Income:Donations`` or ``Income:Crowdfunding``; every other income is **earned income**.
- **Cash and bank** accounts are asset accounts designated ``cash``, or (undesignated) under
  ``Assets:Cash`` or ``Assets:Bank`` — restricted funds held in the bank included.
- The **emergency fund** is the asset designated so, or (undesignated) ``Assets:EmergencyFund``
  and anything under it; no target is set.
- **Essential expenses** are those designated essential, in a commodity where any is; where none
  is, all expenses count.
- No budget is adopted. **Restricted funds** are the community's funds (``ledger.economy.funds``).
- **Member time accounts** have codes ``member:<uuid>`` and a member.

Designations roll down groups: an undesignated account under a designated one takes its
designation (``Expenses:Food:Bulk`` is essential when ``Expenses:Food`` is; a fund held in
``Assets:Bank`` is cash), so a treasurer's sub-accounts count where their group counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Final, Protocol, TypeVar

from ledger.economy.chart import Designation
from reports.queries.figures import AccountRow

EXTERNAL_SUPPORT_LINES: Final = frozenset({"Grants", "Donations", "Crowdfunding"})
CASH_GROUPS: Final = frozenset({"Cash", "Bank"})
EMERGENCY_FUND_GROUP: Final = "EmergencyFund"

NO_TARGET: Final = "no target set"
TARGET_MET: Final = "target met"
TARGET_SHORT: Final = "below target"
NO_BUDGET: Final = "no adopted budget"
NONE_DESIGNATED: Final = "none designated"
ESSENTIAL_EXPENSES_BASIS: Final = "all expenses (none are designated essential yet)"
DESIGNATED_ESSENTIAL_BASIS: Final = (
    "the expenses designated essential (food, housing, utilities, insurance in the co-op chart); "
    "all expenses in a commodity where none is"
)


class Classified(Protocol):
    """An account as the report reads it (``reports.queries.figures.AccountRow``)."""

    @property
    def type(self) -> str: ...
    @property
    def designation(self) -> str | None: ...


def _segments(code: str) -> list[str]:
    return code.split(":")


def group_of(code: str) -> str:
    """The second segment of a ``Root:Group[:…]`` code; the whole code when there is none."""
    parts = _segments(code)
    return parts[1] if len(parts) > 1 and parts[1] else code


def group_code(code: str) -> str:
    """The ``Root:Group`` a ``Root:Group[:…]`` code rolls up to; the whole code when it has no
    group."""
    parts = _segments(code)
    return ":".join(parts[:2]) if len(parts) > 1 and parts[1] else code


def group_names(accounts: Iterable[AccountRow]) -> Callable[[str], str]:
    """Names an account group's code as people read it: by the name of its own account (of the
    ``Root:Group`` it rolls up to, if it has none), else by the code's second segment (a group
    whose accounts were all opened below it has no name of its own)."""
    names: dict[str, str] = {}
    for account in accounts:
        names.setdefault(account.code, account.name)
    return lambda code: names.get(code) or names.get(group_code(code)) or group_of(code)


def is_external_support(income_code: str, designation: str | None = None) -> bool:
    if designation is not None:
        return designation == Designation.EXTERNAL_SUPPORT
    return group_of(income_code) in EXTERNAL_SUPPORT_LINES


def is_cash_or_bank(account_type: str, code: str, designation: str | None = None) -> bool:
    if account_type != "asset":
        return False
    if designation is not None:
        return designation == Designation.CASH
    return _segments(code)[0] == "Assets" and group_of(code) in CASH_GROUPS


def is_emergency_fund(account_type: str, code: str, designation: str | None = None) -> bool:
    if account_type != "asset":
        return False
    if designation is not None:
        return designation == Designation.EMERGENCY_FUND
    return _segments(code)[0] == "Assets" and group_of(code) == EMERGENCY_FUND_GROUP


A = TypeVar("A", bound=Classified)


def essential_expenses(accounts: Iterable[A]) -> list[A]:
    """The expense accounts among ``accounts`` (one commodity) that count as essential."""
    expenses = [a for a in accounts if a.type == "expense"]
    designated = [a for a in expenses if a.designation == Designation.ESSENTIAL_EXPENSE]
    return designated or expenses


def essential_basis(accounts: Iterable[Classified]) -> str:
    """How the report chose essential expenses, for its resilience section and glossary."""
    if any(a.designation == Designation.ESSENTIAL_EXPENSE for a in accounts):
        return DESIGNATED_ESSENTIAL_BASIS
    return ESSENTIAL_EXPENSES_BASIS


def inherit_designations(accounts: list[AccountRow]) -> list[AccountRow]:
    """``accounts`` with each undesignated one given the designation of its nearest designated
    group of the same type and commodity (its code's longest designated prefix)."""
    designated = {(a.code, a.type, a.commodity): a.designation for a in accounts if a.designation}
    inherited = []
    for account in accounts:
        designation = account.designation
        parts = account.code.split(":")
        for depth in range(len(parts) - 1, 0, -1):
            if designation is not None:
                break
            group = ":".join(parts[:depth])
            designation = designated.get((group, account.type, account.commodity))
        inherited.append(
            account
            if designation == account.designation
            else replace(account, designation=designation)
        )
    return inherited
