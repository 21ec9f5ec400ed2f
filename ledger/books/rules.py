"""Pure invariant checks and balance arithmetic.

Nothing here performs I/O: the service loads (and locks) the accounts an entry touches, then asks
these functions whether the entry may be written and what it does to each account's counters.

The order in which a new entry's checks run — and so which code is reported when an entry breaks
several rules — is :data:`ENTRY_CHECKS`, a table the runners below walk in order. The precedence
in ``docs/ledger.md`` and the error lists of the entry routes in the OpenAPI document are derived
from it, and ``tests/ledger/test_check_precedence.py`` proves the first broken rule wins.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from ledger.books import refusals
from ledger.kernel import errors
from ledger.kernel.inputs import metadata_problem, text_problem
from ledger.kernel.model import (
    AMOUNT_ABS_MAX,
    COUNTER_MAX,
    GUARDED_SPEND_KIND,
    Account,
    Balance,
    Counters,
    NewEntry,
    Posting,
    PostingSpec,
)


class Transition(enum.Enum):
    """What a write does to the counters of the accounts its postings touch."""

    CREATE_POSTED = "create_posted"
    CREATE_PENDING = "create_pending"
    POST_PENDING = "post_pending"
    VOID_PENDING = "void_pending"


DESCRIPTION_MAX_CHARS = 1000
KIND_MAX_CHARS = 40


# The checks of a new entry --------------------------------------------------------------------
# Each reads one of three things, and so belongs to one stage of a write: the request alone
# (before any database work, so a refused request claims no idempotency key), the locked accounts
# its postings name, or the counters each touched account would hold after the write. A check
# raises the error of its code and nothing else; its docstring is its line in docs/ledger.md.


@dataclass(frozen=True, slots=True)
class OnRequest:
    """A check that reads the request alone."""

    run: Callable[[NewEntry], None]


@dataclass(frozen=True, slots=True)
class OnAccounts:
    """A check that reads the entry and the locked accounts its postings name (those found: an
    id missing from the mapping does not exist in the entry's community)."""

    run: Callable[[NewEntry, Mapping[uuid.UUID, Account]], None]


@dataclass(frozen=True, slots=True)
class OnCounters:
    """A check that reads, per touched account, the counters it would hold after the write."""

    run: Callable[[Mapping[uuid.UUID, Account], Mapping[uuid.UUID, Counters]], None]


Check = OnRequest | OnAccounts | OnCounters


def _fields_well_formed(entry: NewEntry) -> None:
    """description, kind, metadata or effective date malformed"""
    check_description(entry.description)
    if not isinstance(entry.kind, str) or not 0 < len(entry.kind) <= KIND_MAX_CHARS:
        raise errors.InvalidInput(f"kind must be text of 1 to {KIND_MAX_CHARS} characters")
    if problem := text_problem("kind", entry.kind) or metadata_problem(entry.metadata):
        raise errors.InvalidInput(problem)
    check_effective_date(entry.effective_date)


def _two_postings_or_more(entry: NewEntry) -> None:
    """fewer than two postings"""
    if len(entry.postings) < 2:
        raise errors.TooFewPostings(
            f"an entry needs at least 2 postings, got {len(entry.postings)}"
        )


def _amounts_in_range(entry: NewEntry) -> None:
    """a zero, non-integer or out-of-range amount"""
    for index, posting in enumerate(entry.postings):
        amount = posting.amount
        if type(amount) is not int or amount == 0 or abs(amount) > AMOUNT_ABS_MAX:
            raise errors.InvalidAmount(
                f"posting {index}: amount must be a non-zero integer within ±{AMOUNT_ABS_MAX}, "
                f"got {amount!r}",
                index=index,
            )


def _each_account_moves(entry: NewEntry) -> None:
    """the postings of each account cancel out (a transfer from an account to itself)"""
    net: dict[uuid.UUID, int] = defaultdict(int)
    for posting in entry.postings:
        net[posting.account_id] += posting.amount
    if not any(net.values()):
        raise errors.SameAccount(
            "this entry takes from and gives to the same account, so it would change no "
            "balance: a transfer needs two different accounts",
            members={"account_ids": sorted(str(account_id) for account_id in net)},
        )


def _accounts_exist(entry: NewEntry, accounts: Mapping[uuid.UUID, Account]) -> None:
    """a posting names an account the community does not have"""
    for spec in entry.postings:
        if spec.account_id not in accounts:
            raise errors.AccountNotFound(
                f"account {spec.account_id} does not exist", account_id=spec.account_id
            )


def _accounts_open(entry: NewEntry, accounts: Mapping[uuid.UUID, Account]) -> None:
    """a posting names a closed account"""
    for spec in entry.postings:
        if accounts[spec.account_id].closed:
            raise errors.AccountClosed(
                f"account {spec.account_id} is closed", account_id=spec.account_id
            )


def _guarded_accounts_kept(entry: NewEntry, accounts: Mapping[uuid.UUID, Account]) -> None:
    """a posting lowers a guarded account (the emergency fund's) outside a disbursement"""
    if entry.kind == GUARDED_SPEND_KIND:
        return
    for spec in entry.postings:
        account = accounts[spec.account_id]
        if account.guarded and spec.amount * account.type.normal_sign < 0:
            raise errors.AccountGuarded(
                f"account {spec.account_id} is the emergency fund's: money leaves it only "
                "through a disbursement the stewards approve",
                account_id=spec.account_id,
            )


def _each_commodity_balances(entry: NewEntry, accounts: Mapping[uuid.UUID, Account]) -> None:
    """per commodity, the postings do not sum to zero"""
    sums: dict[str, int] = defaultdict(int)
    for spec in entry.postings:
        sums[accounts[spec.account_id].commodity] += spec.amount
    off = {commodity: total for commodity, total in sorted(sums.items()) if total != 0}
    if not off:
        return
    raise refusals.unbalanced(entry, accounts, off)


def _counters_fit(
    accounts: Mapping[uuid.UUID, Account], after: Mapping[uuid.UUID, Counters]
) -> None:
    """a balance counter would leave the 64-bit range"""
    for account_id, counters in after.items():
        check_overflow(accounts[account_id], counters)


def _limits_hold(
    accounts: Mapping[uuid.UUID, Account], after: Mapping[uuid.UUID, Counters]
) -> None:
    """a balance, counting pending reservations, would leave its limits"""
    for account_id, counters in after.items():
        check_limits(accounts[account_id], counters)


ENTRY_CHECKS: Final[tuple[tuple[str, Check], ...]] = (
    (errors.InvalidInput.code, OnRequest(_fields_well_formed)),
    (errors.TooFewPostings.code, OnRequest(_two_postings_or_more)),
    (errors.InvalidAmount.code, OnRequest(_amounts_in_range)),
    (errors.SameAccount.code, OnRequest(_each_account_moves)),
    (errors.AccountNotFound.code, OnAccounts(_accounts_exist)),
    (errors.AccountClosed.code, OnAccounts(_accounts_open)),
    (errors.AccountGuarded.code, OnAccounts(_guarded_accounts_kept)),
    (errors.Unbalanced.code, OnAccounts(_each_commodity_balances)),
    (errors.CounterOverflow.code, OnCounters(_counters_fit)),
    (errors.LimitExceeded.code, OnCounters(_limits_hold)),
)
"""The checks of a new entry as (code, check), in descending precedence: the first that fails is
reported. Each check runs over every posting (or touched account) before the next one starts, so
a closed account never hides a missing one. The request's checks come first, then the accounts',
then the counters': each stage runs once its inputs exist (``check_entry``, ``check_accounts``,
``apply_entry``), so the table must list them in that order, as a test holds it to."""


def check_entry(entry: NewEntry) -> None:
    """The checks of ``ENTRY_CHECKS`` that need no account, in order: they run before any
    database work."""
    for _, check in ENTRY_CHECKS:
        if isinstance(check, OnRequest):
            check.run(entry)


def check_description(description: str) -> None:
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX_CHARS:
        raise errors.InvalidInput(
            f"description must be text of at most {DESCRIPTION_MAX_CHARS} characters"
        )
    if problem := text_problem("description", description):
        raise errors.InvalidInput(problem)


EFFECTIVE_DATE_MIN = date(1900, 1, 1)
EFFECTIVE_DATE_MAX = date(2999, 12, 31)
"""The days an entry may be dated, on every write path and import. Far from the calendar's ends:
the exports read the day before a range and Beancount asserts balances on the day after, and
9999-12-31 once broke the Beancount export for good (issue 18, L2)."""


def check_effective_date(effective_date: date | None, field: str = "effective_date") -> None:
    if effective_date is None:
        return
    # A datetime is a date too, but would silently drop its time: refuse it.
    if type(effective_date) is not date:
        raise errors.InvalidInput(f"{field} must be a date without a time")
    if not EFFECTIVE_DATE_MIN <= effective_date <= EFFECTIVE_DATE_MAX:
        raise errors.InvalidInput(
            f"{field} must lie between {EFFECTIVE_DATE_MIN} and {EFFECTIVE_DATE_MAX}, "
            f"got {effective_date}"
        )


def check_accounts(entry: NewEntry, accounts: Mapping[uuid.UUID, Account]) -> tuple[Posting, ...]:
    """The checks of ``ENTRY_CHECKS`` on the accounts, in order: every account exists and is
    open, no guarded account is lowered outside a disbursement, and each commodity balances.
    Returns the postings with their accounts' commodities.

    ``accounts`` holds the accounts of the entry's community that were found; an id missing from
    it does not exist there (an account of another community is never loaded)."""
    for _, check in ENTRY_CHECKS:
        if isinstance(check, OnAccounts):
            check.run(entry, accounts)
    return tuple(
        Posting(spec.account_id, spec.amount, accounts[spec.account_id].commodity)
        for spec in entry.postings
    )


def counter_deltas(
    postings: Iterable[Posting], transition: Transition
) -> dict[uuid.UUID, Counters]:
    """Per account, how ``transition`` of these postings changes its counters (may be < 0)."""
    deltas: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for posting in postings:
        # Index 0/1: posted debits/credits, 2/3: pending debits/credits.
        side = 0 if posting.amount > 0 else 1
        size = abs(posting.amount)
        delta = deltas[posting.account_id]
        if transition is Transition.CREATE_POSTED:
            delta[side] += size
        elif transition is Transition.CREATE_PENDING:
            delta[2 + side] += size
        elif transition is Transition.POST_PENDING:
            delta[2 + side] -= size
            delta[side] += size
        else:
            delta[2 + side] -= size
    return {account_id: Counters(*values) for account_id, values in deltas.items()}


def add_counters(base: Counters, delta: Counters) -> Counters:
    return Counters(
        base.debits_posted + delta.debits_posted,
        base.credits_posted + delta.credits_posted,
        base.debits_pending + delta.debits_pending,
        base.credits_pending + delta.credits_pending,
    )


def check_overflow(account: Account, counters: Counters) -> None:
    """``counter_overflow`` for one account's counters after a write."""
    values = (
        counters.debits_posted,
        counters.credits_posted,
        counters.debits_pending,
        counters.credits_pending,
    )
    assert min(values) >= 0, f"negative counter on {account.id}: {counters}"
    if max(values) > COUNTER_MAX:
        raise errors.CounterOverflow(
            f"account {account.id}: a balance counter would exceed {COUNTER_MAX}",
            account_id=account.id,
        )


def check_limits(account: Account, counters: Counters) -> None:
    """``limit_exceeded`` for one account's counters after a write."""
    balance = Balance.from_counters(account.id, account.commodity, account.type, counters)
    check_balance_within(account, balance, account.balance_min, account.balance_max)


def check_balance_within(
    account: Account, balance: Balance, balance_min: int | None, balance_max: int | None
) -> None:
    if balance_min is not None and balance.available < balance_min:
        raise refusals.beyond(account, "min", balance.available, balance_min)
    if balance_max is not None and balance.ceiling > balance_max:
        raise refusals.beyond(account, "max", balance.ceiling, balance_max)


def apply_entry(
    postings: Iterable[Posting],
    transition: Transition,
    accounts: Mapping[uuid.UUID, Account],
) -> dict[uuid.UUID, Counters]:
    """The new counters of every touched account, after the checks of ``ENTRY_CHECKS`` on
    counters pass, in order, for all of them (in account id order). Completing a pending entry
    runs these alone."""
    result = {
        account_id: add_counters(accounts[account_id].counters, delta)
        for account_id, delta in sorted(counter_deltas(postings, transition).items())
    }
    for _, check in ENTRY_CHECKS:
        if isinstance(check, OnCounters):
            check.run(accounts, result)
    return result


def validate_new_entry(
    entry: NewEntry, accounts: Mapping[uuid.UUID, Account]
) -> tuple[tuple[Posting, ...], dict[uuid.UUID, Counters]]:
    """The rest of ``ENTRY_CHECKS``, in order, for an entry that passed ``check_entry``, on its
    locked accounts; returns its resolved postings and the counters each touched account will
    hold."""
    postings = check_accounts(entry, accounts)
    transition = Transition.CREATE_PENDING if entry.pending else Transition.CREATE_POSTED
    return postings, apply_entry(postings, transition, accounts)


def check_new_limits(account: Account, balance_min: int | None, balance_max: int | None) -> None:
    """Limits may change only to values the balance, with reservations, already respects —
    so that every stored balance always lies within its limits."""
    for name, value in (("balance_min", balance_min), ("balance_max", balance_max)):
        if value is not None and (type(value) is not int or abs(value) > COUNTER_MAX):
            raise errors.InvalidInput(f"{name} must be a 64-bit integer or null, got {value!r}")
    if balance_min is not None and balance_max is not None and balance_min > balance_max:
        raise errors.InvalidInput(
            f"balance_min {balance_min} is greater than balance_max {balance_max}"
        )
    try:
        check_balance_within(account, account.balance, balance_min, balance_max)
    except errors.LimitExceeded as exc:
        beyond = exc  # ``exc`` is unbound when the except block ends, before the words are read
        raise errors.LimitsViolatedByBalance(
            lambda units: beyond.in_units(units).detail,
            members=beyond.members,
            account_id=account.id,
        ) from None


def reversal_postings(postings: Iterable[Posting]) -> tuple[PostingSpec, ...]:
    return tuple(PostingSpec(p.account_id, -p.amount) for p in postings)
