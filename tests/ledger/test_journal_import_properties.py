"""The import's limit replay agrees with the rules every single write obeys: writing the file's
entries one by one in date order with ``rules.apply_entry`` (what ``post_entry`` runs on locked
accounts) succeeds exactly when the replay finds no breach, ends on the same counters, and
otherwise first fails on an entry the replay names."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.books import rules
from ledger.imports.journal_format import FileEntry, FilePosting, ParsedJournal
from ledger.imports.journal_import import plan
from ledger.kernel import errors
from ledger.kernel.model import Account, AccountType, Counters

CODES = ("a", "b", "c")
TYPES = (AccountType.LIABILITY, AccountType.ASSET, AccountType.LIABILITY)


def _accounts(limits: list[tuple[int | None, int | None]], start: list[int]) -> dict[str, Account]:
    accounts = {}
    for code, kind, (low, high), opening in zip(CODES, TYPES, limits, start, strict=True):
        counters = Counters(debits_posted=max(opening, 0), credits_posted=max(-opening, 0))
        accounts[code] = Account(
            community_id=uuid.UUID(int=1),
            id=uuid.UUID(int=CODES.index(code) + 10),
            code=code,
            name=code,
            type=kind,
            commodity="HOURS",
            member_id=None,
            balance_min=low,
            balance_max=high,
            closed=False,
            created_at=datetime(2024, 1, 1, tzinfo=UTC),
            counters=counters,
        )
    return accounts


_limit = st.one_of(st.none(), st.integers(-50, 50))
_entry = st.tuples(
    st.integers(0, 20),  # day
    st.sampled_from([(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)]),
    st.integers(1, 30),
)


@settings(max_examples=300, deadline=None)
@given(
    limits=st.lists(st.tuples(_limit, _limit), min_size=3, max_size=3),
    entries=st.lists(_entry, min_size=1, max_size=12),
)
def test_the_replay_matches_writing_entry_by_entry(
    limits: list[tuple[int | None, int | None]], entries: list[tuple[int, tuple[int, int], int]]
) -> None:
    limits = [(lo, hi) if lo is None or hi is None or lo <= hi else (hi, lo) for lo, hi in limits]
    accounts = _accounts(limits, [0, 0, 0])
    for code, account in list(accounts.items()):
        try:
            rules.check_limits(account, account.counters)
        except errors.LimitExceeded:
            accounts[code] = replace(account, balance_min=None, balance_max=None)
    parsed = ParsedJournal("h.csv")
    for line, (day, (debit, credit), amount) in enumerate(entries, start=2):
        postings = (FilePosting(CODES[debit], amount), FilePosting(CODES[credit], -amount))
        effective = date(2024, 1, 1) + timedelta(days=day)
        parsed.entries.append(FileEntry(line, effective, "", "x", {}, postings))
    journal, problems = plan(parsed, accounts)

    by_id = {account.id: account for account in accounts.values()}
    failed_line = None
    for found, _, resolved in sorted(journal.entries, key=lambda item: item[0].effective_date):
        try:
            counters = rules.apply_entry(resolved, rules.Transition.CREATE_POSTED, by_id)
        except errors.LimitExceeded:
            failed_line = found.line
            break
        for account_id, new in counters.items():
            by_id[account_id] = replace(by_id[account_id], counters=new)
    if failed_line is None:
        assert problems == []
        assert journal.counters == {
            account_id: by_id[account_id].counters for account_id in journal.counters
        }
    else:
        assert problems, "the replay missed a breach"
        assert failed_line in {problem.line for problem in problems}
