"""Pure checks of ``ledger.books.rules`` and values of ``ledger.kernel.model``: no database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ledger.books import rules
from ledger.kernel import errors
from ledger.kernel.model import (
    COUNTER_MAX,
    HOURS,
    Account,
    AccountType,
    Balance,
    Counters,
    NewEntry,
    PostingSpec,
    new_id,
)


def account(
    type_: AccountType = AccountType.ASSET,
    *,
    commodity: str = HOURS,
    closed: bool = False,
    balance_min: int | None = None,
    balance_max: int | None = None,
    counters: Counters | None = None,
) -> Account:
    return Account(
        community_id=uuid.UUID(int=1),
        id=new_id(),
        code="x",
        name="X",
        type=type_,
        commodity=commodity,
        member_id=None,
        balance_min=balance_min,
        balance_max=balance_max,
        closed=closed,
        created_at=datetime.now(UTC),
        counters=counters or Counters(),
    )


def code_of(entry: NewEntry, *accounts: Account) -> str:
    try:
        rules.check_entry(entry)
        rules.validate_new_entry(entry, {a.id: a for a in accounts})
    except errors.LedgerError as exc:
        return exc.code
    return "ok"


def test_checks_report_the_first_rule_broken_in_the_documented_order() -> None:
    a, b = account(), account(closed=True, commodity="EUR")
    missing = uuid.uuid4()
    assert code_of(NewEntry((PostingSpec(a.id, 0),)), a) == "too_few_postings"
    assert code_of(NewEntry((PostingSpec(missing, 0), PostingSpec(a.id, 5)))) == "invalid_amount"
    assert code_of(NewEntry((PostingSpec(missing, 5), PostingSpec(b.id, -4))), b) == (
        "account_not_found"
    )
    assert code_of(NewEntry((PostingSpec(a.id, 5), PostingSpec(b.id, -4))), a, b) == (
        "account_closed"
    )
    c = account(commodity="EUR", balance_min=0)
    assert code_of(NewEntry((PostingSpec(a.id, 5), PostingSpec(c.id, -5))), a, c) == "unbalanced"
    d = account(balance_min=0, counters=Counters(debits_posted=COUNTER_MAX))
    assert code_of(NewEntry((PostingSpec(d.id, 5), PostingSpec(a.id, -5))), a, d) == (
        "counter_overflow"
    )
    e = account(balance_min=0)
    assert code_of(NewEntry((PostingSpec(e.id, -5), PostingSpec(a.id, 5))), a, e) == (
        "limit_exceeded"
    )
    assert code_of(NewEntry((PostingSpec(e.id, 5), PostingSpec(a.id, -5))), a, e) == "ok"


@pytest.mark.parametrize(
    "entry",
    [
        NewEntry((), description="x" * (rules.DESCRIPTION_MAX_CHARS + 1)),
        NewEntry((), kind=""),
        NewEntry((), metadata=[1]),  # type: ignore[arg-type]
        NewEntry((), effective_date=datetime.now(UTC)),
    ],
)
def test_entry_fields_are_checked_first(entry: NewEntry) -> None:
    assert code_of(entry) == "invalid_input"


@pytest.mark.parametrize("amount", [True, 1.0, 2**53, -(2**53), "5"])
def test_amounts_are_integers_in_the_json_safe_range(amount: object) -> None:
    a, b = account(), account()
    entry = NewEntry((PostingSpec(a.id, amount), PostingSpec(b.id, 1)))  # type: ignore[arg-type]
    assert code_of(entry, a, b) == "invalid_amount"


def test_balances_read_in_the_normal_direction() -> None:
    counters = Counters(debits_posted=100, credits_posted=30, debits_pending=7, credits_pending=5)
    debit_normal = Balance.from_counters(uuid.uuid4(), HOURS, AccountType.EXPENSE, counters)
    assert (debit_normal.posted, debit_normal.pending) == (70, 2)
    assert (debit_normal.available, debit_normal.ceiling) == (65, 77)
    credit_normal = Balance.from_counters(uuid.uuid4(), HOURS, AccountType.INCOME, counters)
    assert (credit_normal.posted, credit_normal.pending) == (-70, -2)
    assert (credit_normal.available, credit_normal.ceiling) == (-77, -65)


def test_two_phase_transitions_move_reservations() -> None:
    a = account(AccountType.LIABILITY, balance_min=-100)
    b = account(AccountType.LIABILITY)
    postings = rules.check_accounts(
        NewEntry((PostingSpec(a.id, 60), PostingSpec(b.id, -60))), {a.id: a, b.id: b}
    )
    pending = rules.apply_entry(postings, rules.Transition.CREATE_PENDING, {a.id: a, b.id: b})
    assert pending[a.id] == Counters(debits_pending=60)
    a2, b2 = replace(a, counters=pending[a.id]), replace(b, counters=pending[b.id])
    posted = rules.apply_entry(postings, rules.Transition.POST_PENDING, {a.id: a2, b.id: b2})
    assert posted[a.id] == Counters(debits_posted=60)
    voided = rules.apply_entry(postings, rules.Transition.VOID_PENDING, {a.id: a2, b.id: b2})
    assert voided[b.id] == Counters()


def test_new_limits_must_hold_for_the_current_balance() -> None:
    a = account(counters=Counters(debits_posted=10, credits_pending=4))
    rules.check_new_limits(a, 6, 10)
    with pytest.raises(errors.LimitsViolatedByBalance):
        rules.check_new_limits(a, 7, None)
    with pytest.raises(errors.InvalidInput):
        rules.check_new_limits(a, 5, 4)
    with pytest.raises(errors.InvalidInput):
        rules.check_new_limits(a, True, None)


def test_ids_are_uuid7_and_sort_by_creation() -> None:
    ids = [new_id() for _ in range(1000)]
    assert {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {uuid.RFC_4122}
    assert len(set(ids)) == len(ids)
    stamps = [i.int >> 80 for i in ids]
    assert stamps == sorted(stamps)
