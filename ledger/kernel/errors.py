"""Expected rule breaks of the ledger.

Each error carries a stable snake_case ``code`` that clients may rely on (the HTTP layer maps
codes to status and problem ``type`` in one table) and a human ``detail``. When a new entry breaks
several rules, the code reported is the first of them in ``ledger.books.rules.ENTRY_CHECKS``, the
table of an entry's checks in descending precedence (``docs/ledger.md`` lists it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar

from ledger.kernel.quantity import Units

Words = Callable[[Units | None], str]
"""A detail that names amounts, worded in the commodities' units once they are known."""


class LedgerError(Exception):
    """Base of every expected ledger error. Never raised for programmer mistakes.

    ``detail`` is for people; ``members`` are the same facts for programs (raw integers in the
    smallest unit, ids), sent as extension members of the problem and kept with a stored
    rejection. A detail that shows amounts is given as ``Words``: the pure checks word it
    with what they know (HOURS), and the write that meets it words it again in the community's
    own units (``in_units``) before anyone sees it."""

    code: ClassVar[str] = "ledger_error"

    def __init__(
        self, detail: str | Words, *, members: dict[str, Any] | None = None, **context: Any
    ) -> None:
        self._words: Words | None = None
        if not isinstance(detail, str):
            self._words, detail = detail, detail(None)
        super().__init__(detail)
        self.detail = detail
        self.members = members or {}
        self.context = context

    @property
    def shows_amounts(self) -> bool:
        return self._words is not None

    def in_units(self, units: Units | None) -> LedgerError:
        """This error, its amounts worded in ``units`` (itself when it shows none)."""
        if self._words is None:
            return self
        worded = copy.copy(self)
        worded.detail = self._words(units)
        worded.args = (worded.detail,)
        return worded

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.detail})"


class NotFound(LedgerError):
    code = "not_found"


class CommunityNotFound(NotFound):
    """No community with that id or slug."""

    code = "community_not_found"


class AccountNotFound(NotFound):
    """No account with that id in the community."""

    code = "account_not_found"


class EntryNotFound(NotFound):
    """No entry with that id in the community."""

    code = "entry_not_found"


class MemberNotFound(NotFound):
    """No member with that id in the community."""

    code = "member_not_found"


class CredentialNotFound(NotFound):
    """No credential with that id in the community."""

    code = "credential_not_found"


class CommodityNotFound(NotFound):
    """The community has no commodity with that code."""

    code = "commodity_not_found"


class AlreadyExists(LedgerError):
    code = "already_exists"


class CommunityExists(AlreadyExists):
    """The slug is taken."""

    code = "community_exists"


class CommodityExists(AlreadyExists):
    """The community already has a commodity with that code."""

    code = "commodity_exists"


class AccountCodeExists(AlreadyExists):
    """The community already has an account with that code."""

    code = "account_code_exists"


class InvalidInput(LedgerError):
    """A value is malformed: empty code, bad scale, limits with min > max …"""

    code = "invalid_input"


class InvalidAmount(LedgerError):
    """A posting amount is zero, not an integer, or beyond ±(2**53 − 1)."""

    code = "invalid_amount"


class TooFewPostings(LedgerError):
    """An entry needs at least two postings."""

    code = "too_few_postings"


class Unbalanced(LedgerError):
    """For some commodity the entry's postings do not sum to zero."""

    code = "unbalanced"


class AccountClosed(LedgerError):
    """An entry touches a closed account."""

    code = "account_closed"


class AccountGuarded(LedgerError):
    """An entry would lower a guarded account (the emergency fund's) without being one of the
    disbursements its stewards approve."""

    code = "account_guarded"


class SameAccount(LedgerError):
    """The postings of each account cancel out: a transfer from an account to itself."""

    code = "same_account"


class LimitExceeded(LedgerError):
    """An entry would take a balance, counting pending reservations, outside its limits."""

    code = "limit_exceeded"


class LimitsViolatedByBalance(LedgerError):
    """New limits that the account's current balance (with reservations) already breaks."""

    code = "limits_violated_by_balance"


class AccountHasPending(LedgerError):
    """An account with pending entries cannot be closed."""

    code = "account_has_pending"


class AccountHasBalance(LedgerError):
    """An account to be closed still holds a posted balance: move it out first."""

    code = "account_has_balance"


class CounterOverflow(LedgerError):
    """An entry would take a balance counter past the 64-bit range."""

    code = "counter_overflow"


class EntryNotPending(LedgerError):
    """Only a pending entry can be posted or voided, and only once."""

    code = "entry_not_pending"


class EntryNotPosted(LedgerError):
    """Only a posted entry can be reversed."""

    code = "entry_not_posted"


class EntryAlreadyReversed(LedgerError):
    """An entry can be reversed at most once."""

    code = "entry_already_reversed"


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before with a different request."""

    code = "idempotency_conflict"


class IdempotencyInFlight(LedgerError):
    """A request under the same idempotency key is still being processed."""

    code = "idempotency_in_flight"


ERROR_TYPES: dict[str, type[LedgerError]] = {
    cls.code: cls
    for cls in (
        CommunityNotFound,
        AccountNotFound,
        EntryNotFound,
        MemberNotFound,
        CommodityNotFound,
        CredentialNotFound,
        CommunityExists,
        CommodityExists,
        AccountCodeExists,
        InvalidInput,
        InvalidAmount,
        TooFewPostings,
        Unbalanced,
        SameAccount,
        AccountClosed,
        AccountGuarded,
        LimitExceeded,
        LimitsViolatedByBalance,
        AccountHasPending,
        AccountHasBalance,
        CounterOverflow,
        EntryNotPending,
        EntryNotPosted,
        EntryAlreadyReversed,
        IdempotencyConflict,
    )
}
"""Every concrete error by code: rebuilds a stored rejection when an idempotent write replays."""


def from_code(code: str, detail: str, members: dict[str, Any] | None = None) -> LedgerError:
    return ERROR_TYPES.get(code, LedgerError)(detail, members=members)
