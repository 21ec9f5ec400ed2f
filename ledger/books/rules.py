"""Pure invariant checks and balance arithmetic.

Nothing here performs I/O: the service loads (and locks) the accounts an entry touches, then asks
these functions whether the entry may be written and what it does to each account's counters.

Order of checks for a new entry (the first failing one is reported):

0. ``invalid_input``     — description, kind, metadata or effective date malformed
1. ``too_few_postings``  — fewer than two postings
2. ``invalid_amount``    — a zero, non-integer or out-of-range amount
3. ``account_not_found`` — a posting names an account the community does not have
4. ``account_closed``    — a posting names a closed account
5. ``unbalanced``        — per commodity, the postings do not sum to zero
6. ``counter_overflow``  — a balance counter would leave the 64-bit range
7. ``limit_exceeded``    — a balance, counting pending reservations, would leave its limits
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from ledger.kernel import errors
from ledger.kernel.model import (
    AMOUNT_ABS_MAX,
    COUNTER_MAX,
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


def check_entry(entry: NewEntry) -> None:
    """Checks 0–2: everything that needs no account, so it runs before any database work."""
    check_description(entry.description)
    if not isinstance(entry.kind, str) or not 0 < len(entry.kind) <= KIND_MAX_CHARS:
        raise errors.InvalidInput(f"kind must be text of 1 to {KIND_MAX_CHARS} characters")
    if not isinstance(entry.metadata, dict) or not all(isinstance(k, str) for k in entry.metadata):
        raise errors.InvalidInput("metadata must be an object with text keys")
    check_effective_date(entry.effective_date)
    check_shape(entry.postings)


def check_description(description: str) -> None:
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX_CHARS:
        raise errors.InvalidInput(
            f"description must be text of at most {DESCRIPTION_MAX_CHARS} characters"
        )


def check_effective_date(effective_date: date | None) -> None:
    # A datetime is a date too, but would silently drop its time: refuse it.
    if effective_date is not None and type(effective_date) is not date:
        raise errors.InvalidInput("effective_date must be a date without a time")


def check_shape(postings: tuple[PostingSpec, ...]) -> None:
    """Checks 1–2: the entry's shape, before any account is looked at."""
    if len(postings) < 2:
        raise errors.TooFewPostings(f"an entry needs at least 2 postings, got {len(postings)}")
    for index, posting in enumerate(postings):
        amount = posting.amount
        if type(amount) is not int or amount == 0 or abs(amount) > AMOUNT_ABS_MAX:
            raise errors.InvalidAmount(
                f"posting {index}: amount must be a non-zero integer within ±{AMOUNT_ABS_MAX}, "
                f"got {amount!r}",
                index=index,
            )


def check_accounts(
    postings: Iterable[PostingSpec], accounts: Mapping[uuid.UUID, Account]
) -> tuple[Posting, ...]:
    """Checks 3–5: every account exists and is open, and each commodity balances.

    ``accounts`` holds the accounts of the entry's community that were found; an id missing from
    it does not exist there (an account of another community is never loaded)."""
    resolved: list[Posting] = []
    for spec in postings:
        account = accounts.get(spec.account_id)
        if account is None:
            raise errors.AccountNotFound(
                f"account {spec.account_id} does not exist", account_id=spec.account_id
            )
        resolved.append(Posting(spec.account_id, spec.amount, account.commodity))
    for posting in resolved:
        if accounts[posting.account_id].closed:
            raise errors.AccountClosed(
                f"account {posting.account_id} is closed", account_id=posting.account_id
            )
    check_balanced(resolved)
    return tuple(resolved)


def check_balanced(postings: Iterable[Posting]) -> None:
    sums: dict[str, int] = defaultdict(int)
    for posting in postings:
        sums[posting.commodity] += posting.amount
    off = {commodity: total for commodity, total in sorted(sums.items()) if total != 0}
    if off:
        shown = ", ".join(f"{commodity} by {total:+d}" for commodity, total in off.items())
        raise errors.Unbalanced(f"postings do not sum to zero: {shown}", imbalance=off)


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
    """Check 6 for one account's counters after a write."""
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
    """Check 7 for one account's counters after a write."""
    balance = Balance.from_counters(account.id, account.commodity, account.type, counters)
    check_balance_within(account, balance, account.balance_min, account.balance_max)


def check_balance_within(
    account: Account, balance: Balance, balance_min: int | None, balance_max: int | None
) -> None:
    if balance_min is not None and balance.available < balance_min:
        raise errors.LimitExceeded(
            f"account {account.id} would fall to {balance.available} {account.commodity} "
            f"counting pending entries, below its minimum of {balance_min}",
            account_id=account.id,
            limit="min",
        )
    if balance_max is not None and balance.ceiling > balance_max:
        raise errors.LimitExceeded(
            f"account {account.id} would rise to {balance.ceiling} {account.commodity} "
            f"counting pending entries, above its maximum of {balance_max}",
            account_id=account.id,
            limit="max",
        )


def apply_entry(
    postings: Iterable[Posting],
    transition: Transition,
    accounts: Mapping[uuid.UUID, Account],
) -> dict[uuid.UUID, Counters]:
    """The new counters of every touched account, after checks 6–7 pass for all of them."""
    result = {
        account_id: add_counters(accounts[account_id].counters, delta)
        for account_id, delta in sorted(counter_deltas(postings, transition).items())
    }
    for account_id, counters in result.items():
        check_overflow(accounts[account_id], counters)
    for account_id, counters in result.items():
        check_limits(accounts[account_id], counters)
    return result


def validate_new_entry(
    entry: NewEntry, accounts: Mapping[uuid.UUID, Account]
) -> tuple[tuple[Posting, ...], dict[uuid.UUID, Counters]]:
    """Checks 3–7 for an entry that passed ``check_entry``, on its locked accounts; returns its
    resolved postings and the counters each touched account will hold."""
    postings = check_accounts(entry.postings, accounts)
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
        raise errors.LimitsViolatedByBalance(exc.detail, account_id=account.id) from None


def reversal_postings(postings: Iterable[Posting]) -> tuple[PostingSpec, ...]:
    return tuple(PostingSpec(p.account_id, -p.amount) for p in postings)
