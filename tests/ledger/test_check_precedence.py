"""The order of an entry's checks is the table ``ledger.books.rules.ENTRY_CHECKS``: an entry that
breaks several rules at once is refused with the code of the first of them in the table, and the
precedence in ``docs/ledger.md`` is the table's. No database: the checks are pure."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.books import rules
from ledger.kernel import errors
from ledger.kernel.model import (
    AMOUNT_ABS_MAX,
    COUNTER_MAX,
    HOURS,
    Account,
    AccountType,
    Counters,
    NewEntry,
    PostingSpec,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ledger.md"
CODES = [code for code, _ in rules.ENTRY_CHECKS]


def _account(commodity: str = HOURS) -> Account:
    return Account(
        community_id=uuid.UUID(int=1),
        id=uuid.uuid4(),  # random, so either account may sort first
        code="x",
        name="X",
        type=AccountType.ASSET,
        commodity=commodity,
        member_id=None,
        balance_min=None,
        balance_max=None,
        closed=False,
        created_at=datetime.now(UTC),
    )


@dataclass
class Draft:
    """An entry of ``amount`` from asset account ``b`` to asset account ``a`` (both HOURS, no
    limits, zero counters), which breaks no rule until a breaker below changes it."""

    amount: int
    pending: bool
    a: Account = field(default_factory=_account)
    b: Account = field(default_factory=_account)
    fields: dict[str, Any] = field(default_factory=dict)
    postings: list[tuple[uuid.UUID, object]] = field(init=False)

    def __post_init__(self) -> None:
        self.postings = [(self.a.id, self.amount), (self.b.id, -self.amount)]

    def entry(self) -> NewEntry:
        specs = tuple(PostingSpec(account_id, amount) for account_id, amount in self.postings)  # type: ignore[arg-type]
        return NewEntry(specs, pending=self.pending, **self.fields)

    def accounts(self) -> dict[uuid.UUID, Account]:
        return {self.a.id: self.a, self.b.id: self.b}


# One breaker per code: it makes the draft break that rule, and no rule of higher precedence.
# Each needs to break its rule only when no rule before it is broken (else that one is reported).
Breaker = Callable[[Draft, st.DataObject], None]


def _bad_fields(draft: Draft, data: st.DataObject) -> None:
    draft.fields |= data.draw(
        st.sampled_from(
            [
                {"description": "x" * (rules.DESCRIPTION_MAX_CHARS + 1)},
                {"kind": ""},
                {"kind": "k" * (rules.KIND_MAX_CHARS + 1)},
                {"metadata": [1]},
                {"metadata": {1: "one"}},
                {"effective_date": datetime(2026, 1, 2, tzinfo=UTC)},
            ]
        )
    )


def _too_few(draft: Draft, data: st.DataObject) -> None:
    draft.postings = draft.postings[: data.draw(st.integers(0, 1))]


def _bad_amount(draft: Draft, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(draft.postings) - 1))
    bad = data.draw(st.sampled_from([0, AMOUNT_ABS_MAX + 1, -AMOUNT_ABS_MAX - 1, 1.5, True, "5"]))
    draft.postings[index] = (draft.postings[index][0], bad)


def _same_account(draft: Draft, data: st.DataObject) -> None:
    # Every posting on one account, cancelling out: a transfer from ``a`` to itself.
    draft.postings = [(draft.a.id, draft.amount), (draft.a.id, -draft.amount)]


def _missing_account(draft: Draft, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(draft.postings) - 1))
    draft.postings[index] = (uuid.uuid4(), draft.postings[index][1])


def _closed_account(draft: Draft, data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        draft.a = replace(draft.a, closed=True)
    else:
        draft.b = replace(draft.b, closed=True)


def _guarded_account(draft: Draft, data: st.DataObject) -> None:
    # ``b`` (an asset) is credited: lowered. Guarding ``a`` too changes nothing, it rises.
    draft.b = replace(draft.b, guarded=True)
    if data.draw(st.booleans()):
        draft.a = replace(draft.a, guarded=True)


def _unbalanced(draft: Draft, data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        draft.b = replace(draft.b, commodity="EUR")
    else:
        draft.postings.append((draft.a.id, data.draw(st.integers(1, 1000))))


def _overflow(draft: Draft, data: st.DataObject) -> None:
    # ``a`` is debited and ``b`` credited ``amount``: start one of them within reach of the top.
    near_top = COUNTER_MAX - data.draw(st.integers(0, draft.amount - 1))
    if data.draw(st.booleans()):
        name = "debits_pending" if draft.pending else "debits_posted"
        draft.a = replace(draft.a, counters=Counters(**{name: near_top}))
    else:
        name = "credits_pending" if draft.pending else "credits_posted"
        draft.b = replace(draft.b, counters=Counters(**{name: near_top}))


def _over_limit(draft: Draft, data: st.DataObject) -> None:
    room = data.draw(st.integers(0, draft.amount - 1))
    if data.draw(st.booleans()):
        draft.a = replace(draft.a, balance_max=room)
    else:
        draft.b = replace(draft.b, balance_min=-room)


BREAKERS: dict[str, Breaker] = {
    "invalid_input": _bad_fields,
    "too_few_postings": _too_few,
    "invalid_amount": _bad_amount,
    "same_account": _same_account,
    "account_not_found": _missing_account,
    "account_closed": _closed_account,
    "account_guarded": _guarded_account,
    "unbalanced": _unbalanced,
    "counter_overflow": _overflow,
    "limit_exceeded": _over_limit,
}


def code_of(entry: NewEntry, accounts: dict[uuid.UUID, Account]) -> str:
    """What a write of ``entry`` runs, in order: the checks that need no account, then the rest
    on the locked accounts (``Ledger.post_entry``, ``EntryBatches``)."""
    try:
        rules.check_entry(entry)
        rules.validate_new_entry(entry, accounts)
    except errors.LedgerError as exc:
        return exc.code
    return "ok"


def test_every_rule_in_the_table_has_a_breaker() -> None:
    assert list(BREAKERS) == CODES


@st.composite
def broken_rules(draw: st.DrawFn) -> set[str]:
    """The first rule broken (or none), uniformly, and any rules after it."""
    first = draw(st.integers(0, len(CODES)))
    later = CODES[first + 1 :]
    kept = draw(st.lists(st.booleans(), min_size=len(later), max_size=len(later)))
    return {
        *CODES[first : first + 1],
        *(code for code, keep in zip(later, kept, strict=True) if keep),
    }


@settings(max_examples=500, deadline=None)
@given(broken=broken_rules(), amount=st.integers(1, 10**6), pending=st.booleans(), data=st.data())
def test_the_first_broken_rule_in_the_table_wins(
    broken: set[str], amount: int, pending: bool, data: st.DataObject
) -> None:
    draft = Draft(amount, pending)
    # The lowest precedence first, so that cutting the postings short comes after the breakers
    # that pick a posting.
    for code in reversed(CODES):
        if code in broken:
            BREAKERS[code](draft, data)
    draft.postings = data.draw(st.permutations(draft.postings))
    expected = next((code for code in CODES if code in broken), "ok")
    assert code_of(draft.entry(), draft.accounts()) == expected


def test_the_docs_list_the_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- order of checks\b.*?-->\n(.*?)\n\s*<!-- end of order of checks -->", text, re.S
    )
    assert block is not None, "docs/ledger.md has lost its order-of-checks block"
    listed = [line.strip() for line in block.group(1).splitlines()]
    expected = [
        f"{index}. `{code}` — {(check.run.__doc__ or '').strip()}"
        for index, (code, check) in enumerate(rules.ENTRY_CHECKS)
    ]
    assert listed == expected, "docs/ledger.md should list:\n" + "\n".join(expected)


def test_the_stages_follow_one_another() -> None:
    """``check_entry``, ``check_accounts`` and ``apply_entry`` each run the checks of one stage, in
    turn: the table's order is theirs only if no check comes before one of an earlier stage."""
    stages = [
        (rules.OnRequest, rules.OnAccounts, rules.OnCounters).index(type(check))
        for _, check in rules.ENTRY_CHECKS
    ]
    assert stages == sorted(stages)


def test_each_code_is_one_error_that_a_stored_rejection_rebuilds() -> None:
    assert len(set(CODES)) == len(CODES)
    assert all(code in errors.ERROR_TYPES for code in CODES)
