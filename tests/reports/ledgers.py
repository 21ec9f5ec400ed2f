"""Small fixed ledgers whose report figures are computed by hand in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType, Community, Member, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory
from tests.conftest import unique_slug

EUR_ACCOUNTS = (
    ("Assets:Bank", "Assets:Bank", AccountType.ASSET),
    ("Assets:Cash", "Assets:Cash", AccountType.ASSET),
    ("Assets:EmergencyFund", "Assets:EmergencyFund", AccountType.ASSET),
    ("Equity:Opening", "Equity:Opening", AccountType.EQUITY),
    # Income and expense lines are named as people read them: the report shows the names.
    ("Income:Farm", "Farm shop", AccountType.INCOME),
    ("Income:Grants", "Grants", AccountType.INCOME),
    ("Expenses:Food", "Food", AccountType.EXPENSE),
    ("Expenses:Rent", "Rent of the hall", AccountType.EXPENSE),
)


@dataclass
class Books:
    ledger: Ledger
    community: Community
    members: dict[str, Member]


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def exchange(giver: Member, receiver: Member, minutes: int, day: date, category: str | None,
             *, pending: bool = False) -> NewEntry:  # fmt: skip
    metadata = {"provider_member_id": str(giver.id), "receiver_member_id": str(receiver.id)}
    if category is not None:
        metadata["category"] = category
    return NewEntry(
        (PostingSpec(receiver.hours_account_id, minutes),
         PostingSpec(giver.hours_account_id, -minutes)),
        description="help", pending=pending, effective_date=day, kind="exchange",
        metadata=metadata,
    )  # fmt: skip


async def _members(units: SqlUnitOfWorkFactory, community: Community) -> dict[str, Member]:
    joined = {
        "Ann": (date(2026, 1, 1), -300), "Bob": (date(2026, 1, 1), None),
        "Cat": (date(2026, 1, 1), -600), "Dan": (date(2026, 1, 1), None),
        "Eve": (date(2026, 8, 15), None), "Fay": (date(2026, 10, 15), None),
    }  # fmt: skip
    found = {}
    for name, (day, hours_min) in joined.items():
        dated = Ledger(units, clock=lambda day=day: _at(day))  # type: ignore[misc]
        found[name] = await dated.create_member(community.id, name, hours_min=hours_min)
    return found


async def fixed_books(units: SqlUnitOfWorkFactory) -> Books:
    """The ledger the tests of ``reports`` compute by hand (see test_sustainability.py)."""
    ledger = Ledger(units)
    community = await ledger.create_community(unique_slug("r"), "Report test")
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    ids = {}
    for code, name, kind in EUR_ACCOUNTS:
        ids[code] = (
            await ledger.open_account(community.id, NewAccount(code, name, kind, "EUR"))
        ).id

    async def move(debit: str, credit: str, cents: int, day: date, *, pending: bool = False):  # type: ignore[no-untyped-def]
        postings = (PostingSpec(ids[debit], cents), PostingSpec(ids[credit], -cents))
        return await ledger.post_entry(
            community.id, NewEntry(postings, "m", pending=pending, effective_date=day)
        )

    await move("Assets:Bank", "Income:Farm", 10_000, date(2025, 8, 10))
    await move("Assets:Bank", "Equity:Opening", 50_000, date(2026, 1, 5))
    await move("Assets:Bank", "Income:Farm", 20_000, date(2026, 5, 10))
    await move("Expenses:Food", "Assets:Bank", 6_000, date(2026, 5, 20))
    await move("Assets:Bank", "Income:Farm", 30_000, date(2026, 7, 3))
    await move("Assets:Bank", "Income:Grants", 12_000, date(2026, 7, 4))
    await move("Expenses:Rent", "Assets:Bank", 9_000, date(2026, 8, 1))
    await move("Assets:Cash", "Assets:Bank", 5_000, date(2026, 7, 10))
    await move("Expenses:Food", "Assets:Cash", 3_000, date(2026, 8, 2))
    await move("Assets:EmergencyFund", "Assets:Bank", 6_000, date(2026, 9, 1))
    mistake = await move("Expenses:Food", "Assets:Bank", 4_000, date(2026, 9, 5))
    await ledger.reverse(community.id, mistake.id, effective_date=date(2026, 9, 6))
    await move("Assets:Bank", "Income:Farm", 7_000, date(2026, 9, 10), pending=True)
    dropped = await move("Expenses:Rent", "Assets:Bank", 1_000, date(2026, 9, 11), pending=True)
    await ledger.void_pending(community.id, dropped.id)
    await move("Assets:Bank", "Income:Farm", 999, date(2026, 10, 2))

    people = await _members(units, community)
    ann, bob, cat, dan = (people[n] for n in ("Ann", "Bob", "Cat", "Dan"))
    for entry in (
        exchange(bob, ann, 60, date(2026, 6, 15), "gardening"),
        exchange(dan, cat, 30, date(2026, 6, 20), "repairs"),
        exchange(bob, ann, 120, date(2026, 7, 5), "gardening"),
        exchange(bob, cat, 180, date(2026, 7, 6), "cooking"),
        exchange(ann, bob, 60, date(2026, 8, 7), "gardening"),
        exchange(cat, ann, 90, date(2026, 8, 9), None),
        exchange(bob, ann, 60, date(2026, 8, 10), "gardening"),
    ):
        await ledger.post_entry(community.id, entry)
    undone = await ledger.post_entry(
        community.id, exchange(ann, bob, 90, date(2026, 9, 1), "lessons")
    )
    await ledger.reverse(community.id, undone.id, effective_date=date(2026, 9, 2))
    await ledger.post_entry(
        community.id, exchange(cat, bob, 45, date(2026, 9, 10), "care", pending=True)
    )
    await ledger.post_entry(community.id, exchange(ann, bob, 30, date(2026, 10, 1), "care"))
    return Books(ledger, community, people)
