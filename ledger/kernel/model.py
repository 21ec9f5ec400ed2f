"""Immutable domain values of the ledger.

Every amount is an integer in its commodity's smallest unit: minutes for ``HOURS``, cents for a
money commodity with scale 2, a plain count for goods. A posting's positive amount is a debit, a
negative one a credit. Balances are reported in the account's *normal* direction: debit-normal
accounts (asset, expense) as debits − credits, credit-normal ones as credits − debits.

These records carry no behaviour that touches a database or HTTP; ``ledger.books.rules`` checks
them and
``ledger.books.service`` orchestrates them.
"""

from __future__ import annotations

import enum
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

HOURS = "HOURS"
"""The commodity every community has; amounts in integer minutes."""

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
"""A community's slug: 1–64 lowercase letters, digits or inner hyphens."""

COMMODITY_CODE_PATTERN = r"^[A-Z][A-Z0-9_]{0,23}$"
"""A commodity's code: 1–24 capital letters, digits or underscores, starting with a letter."""

AMOUNT_ABS_MAX = 2**53 - 1
"""Largest absolute posting amount: the largest integer a JSON number carries exactly."""

COUNTER_MAX = 2**63 - 1
"""Largest value of a balance counter: the BIGINT column's range."""


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): unique across communities and databases, and time-ordered so that
    ids sort by creation and keep B-tree inserts local."""
    unix_ts_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ts_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64 & (0xFFF << 64)  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # rand_b, 62 bits
    return uuid.UUID(int=value)


class AccountType(enum.StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def normal_sign(self) -> int:
        """+1 for debit-normal types, −1 for credit-normal ones."""
        return 1 if self in (AccountType.ASSET, AccountType.EXPENSE) else -1


class EntryStatus(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


@dataclass(frozen=True, slots=True)
class Community:
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Commodity:
    community_id: uuid.UUID
    code: str
    name: str
    scale: int
    """Decimal places between the stored integer and the display unit (EUR: 2, cents).
    ``HOURS`` has scale 0: it is stored in minutes and displayed as hours and minutes."""


@dataclass(frozen=True, slots=True)
class Member:
    community_id: uuid.UUID
    id: uuid.UUID
    name: str
    hours_account_id: uuid.UUID
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Counters:
    """An account's maintained totals, each ≥ 0, in the commodity's smallest unit."""

    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0


GUARDED_SPEND_KIND: Final = "disbursement"
"""The one kind of entry that may lower a guarded account's balance."""


@dataclass(frozen=True, slots=True)
class Account:
    community_id: uuid.UUID
    id: uuid.UUID
    code: str
    name: str
    type: AccountType
    commodity: str
    member_id: uuid.UUID | None
    balance_min: int | None
    """Lowest allowed balance in the normal direction, counting pending reservations."""
    balance_max: int | None
    """Highest allowed balance in the normal direction, counting pending reservations."""
    closed: bool
    created_at: datetime
    counters: Counters = field(default_factory=Counters)
    guarded: bool = False
    """Only an entry of kind :data:`GUARDED_SPEND_KIND` (a disbursement its stewards approve)
    may lower its balance, and it keeps a floor of at least 0: the emergency fund's account."""

    @property
    def balance(self) -> Balance:
        return Balance.from_counters(self.id, self.commodity, self.type, self.counters)


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's balance in its normal direction, in the commodity's smallest unit.

    ``posted``: the effect of posted entries. ``pending``: the net effect of pending entries.
    ``available``: posted minus every pending reservation that lowers the balance — the lowest
    the balance can reach if all pending entries post; ``balance_min`` is checked against it.
    ``ceiling``: posted plus every pending reservation that raises the balance; ``balance_max``
    is checked against it.
    """

    account_id: uuid.UUID
    commodity: str
    posted: int
    pending: int
    available: int
    ceiling: int
    as_of: date | None = None

    @staticmethod
    def from_counters(
        account_id: uuid.UUID,
        commodity: str,
        account_type: AccountType,
        counters: Counters,
        as_of: date | None = None,
    ) -> Balance:
        sign = account_type.normal_sign
        posted = sign * (counters.debits_posted - counters.credits_posted)
        pending_raise, pending_lower = (
            (counters.debits_pending, counters.credits_pending)
            if sign > 0
            else (counters.credits_pending, counters.debits_pending)
        )
        return Balance(
            account_id=account_id,
            commodity=commodity,
            posted=posted,
            pending=pending_raise - pending_lower,
            available=posted - pending_lower,
            ceiling=posted + pending_raise,
            as_of=as_of,
        )


@dataclass(frozen=True, slots=True)
class PostingSpec:
    """One line of an entry to be written: a positive amount debits, a negative one credits."""

    account_id: uuid.UUID
    amount: int


@dataclass(frozen=True, slots=True)
class Posting:
    account_id: uuid.UUID
    amount: int
    commodity: str


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A request to write a journal entry."""

    postings: tuple[PostingSpec, ...]
    description: str = ""
    pending: bool = False
    effective_date: date | None = None
    """The day the entry counts for; the service uses today (UTC) when it is None."""
    kind: str = "entry"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Entry:
    community_id: uuid.UUID
    id: uuid.UUID
    status: EntryStatus
    effective_date: date
    description: str
    kind: str
    metadata: dict[str, Any]
    created_at: datetime
    """When the entry was recorded (UTC), as opposed to the day it is effective."""
    completed_at: datetime | None
    """When a pending entry was posted or voided; for an entry posted directly, its created_at."""
    reverses: uuid.UUID | None
    postings: tuple[Posting, ...]


@dataclass(frozen=True, slots=True)
class StatementLine:
    entry_id: uuid.UUID
    effective_date: date
    description: str
    amount: int
    """The posting's effect on the account, in the account's normal direction."""
    running_balance: int
    """Posted balance after this line, in the normal direction."""


@dataclass(frozen=True, slots=True)
class StatementCursor:
    """Position after a statement line: lines sort by (effective date, entry id, line number)."""

    effective_date: date
    entry_id: uuid.UUID
    line: int


@dataclass(frozen=True, slots=True)
class StatementPage:
    lines: tuple[StatementLine, ...]
    next_cursor: StatementCursor | None


@dataclass(frozen=True, slots=True)
class TrialBalanceLine:
    account_id: uuid.UUID
    code: str
    name: str
    """The account's name, as people read it (``Hours of Bob Gardener``)."""
    member_name: str | None
    """The name of the member whose account it is; None for the community's own accounts."""
    type: AccountType
    debit: int
    """The balance when it lies on the debit side, else 0."""
    credit: int
    """The balance when it lies on the credit side, else 0."""


@dataclass(frozen=True, slots=True)
class CommodityTrialBalance:
    commodity: str
    lines: tuple[TrialBalanceLine, ...]
    total_debit: int
    total_credit: int


@dataclass(frozen=True, slots=True)
class TrialBalance:
    as_of: date | None
    commodities: tuple[CommodityTrialBalance, ...]


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's retry key. ``scope`` names the caller (an API key, a member), so two callers
    may use the same key independently."""

    scope: str
    key: str
