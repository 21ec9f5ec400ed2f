"""Names and numbers that Beancount and hledger both accept, derived from ours.

Account names: the account's type decides the root (asset → ``Assets``, liability →
``Liabilities``, equity → ``Equity``, income → ``Income``, expense → ``Expenses``). Our code's
parts follow (a leading part that repeats the root is dropped: ``Assets:Bank`` stays
``Assets:Bank``), each reduced to ASCII letters, digits and inner hyphens and starting with a
capital or a digit — what Beancount demands of every part, and nothing hledger refuses. A
member's account is ``<Root>:Members:<Name>-<short member id>``
(``Liabilities:Members:Ann-Weaver-1a2b3c4d``), and a member's account in another commodity than
HOURS (goods traded in barter) takes the commodity as a last part
(``Liabilities:Members:Ann-Weaver-1a2b3c4d:EGGS``).
Names depend only on the account itself, so they are stable across exports; should two accounts
still meet on one name, both get their own short account id appended, which keeps names unique.

Commodities: our codes (capitals, digits, ``_``) are valid Beancount currencies when at least two
characters long and not ending in ``_``; others get ``.CL`` appended. ``HOURS`` is stored in
minutes and 20 minutes are no exact decimal of an hour, so it is exported as the commodity
``HOURS.MIN`` counting whole minutes: exact, and visibly not hours. No code of ours contains a
dot, so these names never collide with a real code.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable

from ledger.kernel.model import HOURS, AccountType
from reports.queries.journal import JournalAccount

ROOTS: dict[AccountType, str] = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}
_ROOT_SPELLINGS = {
    AccountType.ASSET: {"asset", "assets"},
    AccountType.LIABILITY: {"liability", "liabilities"},
    AccountType.EQUITY: {"equity"},
    AccountType.INCOME: {"income", "revenue", "revenues"},
    AccountType.EXPENSE: {"expense", "expenses"},
}
HOURS_EXPORT = "HOURS.MIN"
"""The exported commodity of ``HOURS``: whole minutes."""

_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")
_BEANCOUNT_CURRENCY = re.compile(r"^[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]$")


def short_id(value: uuid.UUID) -> str:
    """The last 8 hex digits: a UUIDv7's leading digits are its timestamp, shared by ids made
    in the same millisecond, while its last ones are random."""
    return value.hex[-8:]


def name_part(text: str) -> str:
    """One part of an account name: ASCII letters, digits, inner hyphens; a capital or a digit
    first. ``"zoë's café"`` → ``"Zoe-s-cafe"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    part = _NOT_NAME.sub("-", ascii_text).strip("-")
    if not part:
        return "X"
    return part[0].upper() + part[1:]


def account_name(account: JournalAccount) -> str:
    """The account's name in the exports, before making names unique (see module doc)."""
    root = ROOTS[account.type]
    if account.member_id is not None:
        person = name_part(account.member_name or "Member")
        member = f"{root}:Members:{person}-{short_id(account.member_id)}"
        return member if account.commodity == HOURS else f"{member}:{name_part(account.commodity)}"
    parts = [part for part in account.code.split(":") if part.strip()]
    if parts and parts[0].strip().lower() in _ROOT_SPELLINGS[account.type]:
        parts = parts[1:]
    if not parts:
        parts = [account.name]
    return ":".join([root, *(name_part(part) for part in parts)])


def account_names(accounts: Iterable[JournalAccount]) -> dict[uuid.UUID, str]:
    """Every account's export name, unique."""
    found = list(accounts)
    names = {account.id: account_name(account) for account in found}
    uses = Counter(names.values())
    for account in found:
        if uses[names[account.id]] > 1:
            names[account.id] = f"{names[account.id]}-{short_id(account.id)}"
    return names


def commodity_name(code: str) -> str:
    """The commodity's name in the exports (see module doc)."""
    if code == HOURS:
        return HOURS_EXPORT
    return code if _BEANCOUNT_CURRENCY.match(code) else f"{code}.CL"


def decimal_text(amount: int, scale: int) -> str:
    """``amount`` in units of 10^-scale as an exact decimal: ``(-1250, 2)`` → ``"-12.50"``."""
    if not scale:
        return str(amount)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**scale)
    return f"{sign}{whole}.{fraction:0{scale}d}"
