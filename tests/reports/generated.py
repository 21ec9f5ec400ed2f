"""A generated community ledger for the export tests: fixed-seed random entries in HOURS, EUR
(scale 2) and EGGS (a goods count), with pending, voided and reversed entries, multi-commodity
entries, awkward names and descriptions, written through the use cases so that the maintained
balances (and so ``Ledger.trial_balance``) are the real ones."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, Community, NewEntry, PostingSpec, TrialBalance

MEMBER_NAMES = (
    "Ann Weaver",
    "Ann Weaver",  # the same name twice: export names must still differ
    'Bob "the builder" Gardener',
    "Zoë O'Brien-Łukasz",
    "李雷",
    '=HYPERLINK("http://evil")',
    "back\\slash; semi",
    "Carol\nNewline",
)
EUR_ACCOUNTS = (
    ("Assets:Bank", "Co-op bank account", AccountType.ASSET),
    ("assets:cash box", "Cash box", AccountType.ASSET),
    ("Income:Farm", "Farm takings", AccountType.INCOME),
    ("Expenses:Seeds & tools", "Seeds; tools", AccountType.EXPENSE),
    ("Equity:Capital", 'Members\' "capital"', AccountType.EQUITY),
    ("Liabilities:Loans", "Loans", AccountType.LIABILITY),
    ("-rent", "=rent()", AccountType.EXPENSE),
)
EGG_ACCOUNTS = (
    ("Assets:Eggs", "Egg store", AccountType.ASSET),
    ("Income:Eggs", "Eggs laid", AccountType.INCOME),
    ("Expenses:Eggs", "Eggs eaten", AccountType.EXPENSE),
)
DESCRIPTIONS = (
    "Fixed the fence",
    'Quote " and backslash \\ and more \\"',
    "Line one\nline two\r\nline three",
    "Semicolon; not a comment",
    "=SUM(A1:A9)",
    "+1 for the team",
    "-minus first",
    "@mention",
    "(parenthesis first",
    "Ünïcödé — “typographic” 🥚",
    "",
    "  spaces around  ",
    "tab\tinside",
)
FIRST_DAY = date(2025, 1, 1)
DAYS = 180


@dataclass
class GeneratedLedger:
    community: Community
    eur: list[uuid.UUID] = field(default_factory=list)
    eggs: list[uuid.UUID] = field(default_factory=list)
    hours: list[uuid.UUID] = field(default_factory=list)
    posted: int = 0
    pending: int = 0
    voided: int = 0
    reversed: int = 0


def raw_balances(trial: TrialBalance) -> dict[uuid.UUID, tuple[str, int]]:
    """Per account: commodity and debits − credits, from the trial balance."""
    return {
        line.account_id: (commodity.commodity, line.debit - line.credit)
        for commodity in trial.commodities
        for line in commodity.lines
    }


async def generate(
    ledger: Ledger, community: Community, entries: int, seed: int
) -> GeneratedLedger:
    rng = random.Random(seed)
    made = GeneratedLedger(community)
    cid = community.id
    await ledger.add_commodity(cid, "EUR", 'Euro "€"', 2)
    await ledger.add_commodity(cid, "EGGS", "Eggs; by the piece", 0)
    for name in MEMBER_NAMES:
        member = await ledger.create_member(cid, name)
        made.hours.append(member.hours_account_id)
    for code, name, kind in EUR_ACCOUNTS:
        made.eur.append((await ledger.open_account(cid, NewAccount(code, name, kind, "EUR"))).id)
    for code, name, kind in EGG_ACCOUNTS:
        made.eggs.append((await ledger.open_account(cid, NewAccount(code, name, kind, "EGGS"))).id)
    posted: list[uuid.UUID] = []
    for _ in range(entries):
        entry = _random_entry(rng, made)
        written = await ledger.post_entry(cid, entry)
        if not entry.pending:
            made.posted += 1
            posted.append(written.id)
        elif rng.random() < 0.5:
            await ledger.post_pending(cid, written.id)
            made.posted += 1
            posted.append(written.id)
        elif rng.random() < 0.5:
            await ledger.void_pending(cid, written.id)
            made.voided += 1
        else:
            made.pending += 1
        if posted and rng.random() < 0.05:
            target = posted.pop(rng.randrange(len(posted)))
            day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            await ledger.reverse(cid, target, effective_date=day)
            made.reversed += 1
    return made


def _pair(rng: random.Random, accounts: list[uuid.UUID], amount: int) -> list[PostingSpec]:
    debit, credit = rng.sample(accounts, 2)
    return [PostingSpec(debit, amount), PostingSpec(credit, -amount)]


def _random_entry(rng: random.Random, made: GeneratedLedger) -> NewEntry:
    roll = rng.random()
    if roll < 0.5:
        postings, kind = _pair(rng, made.hours, rng.randint(1, 600)), "exchange"
    elif roll < 0.8:
        postings, kind = _pair(rng, made.eur, rng.randint(1, 2_000_000)), "transfer"
    elif roll < 0.9:
        postings, kind = _pair(rng, made.eggs, rng.randint(1, 144)), "eggs"
    else:
        postings = [
            *_pair(rng, made.eur, rng.randint(1, 99_999)),
            *_pair(rng, made.eggs, rng.randint(1, 30)),
            *_pair(rng, made.hours, rng.randint(1, 90)),
        ]
        kind = "market day"
    metadata: dict[str, object] = {}
    if rng.random() < 0.3:
        metadata = {"note": rng.choice(DESCRIPTIONS), "n": rng.randint(-5, 5), "ok": True}
    return NewEntry(
        postings=tuple(postings),
        description=rng.choice(DESCRIPTIONS),
        pending=rng.random() < 0.1,
        effective_date=FIRST_DAY + timedelta(days=rng.randrange(DAYS)),
        kind=kind,
        metadata=metadata,
    )
