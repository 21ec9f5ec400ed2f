"""A believable demo community: a dozen members swapping hours over three months, a co-op with a
farm shop, crafts and workshops in euros, a grant, running costs and an emergency fund.

The data is drawn from a fixed seed, so every fresh demo database holds the same books.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from api.bootstrap import governance_of
from api.demo.economy import seed_economy
from api.demo.governance import seed_governance
from ledger.access.credentials import Access
from ledger.access.principals import STEWARD_ROLE, TREASURER_ROLE, Scope
from ledger.books.service import Ledger, NewAccount
from ledger.economy.service import Economy
from ledger.governance.service import Governance
from ledger.kernel import errors
from ledger.kernel.model import Account, AccountType, Community, Member, NewEntry, PostingSpec

DEMO_SLUG = "demo"
DEMO_DAYS = 90
HOURS_MIN = -20 * 60
"""Every demo member may receive up to 20 hours more than they gave (minutes)."""

MEMBERS = (
    "Ann Weaver", "Bob Gardener", "Chloe Baker", "Dev Carpenter", "Esther Cook",
    "Farid Driver", "Greta Teacher", "Hugo Mechanic", "Ines Nurse", "Jonas Painter",
    "Kemi Tailor", "Lena Beekeeper",
)  # fmt: skip

SERVICES = (
    ("gardening", "Weeding the vegetable beds"),
    ("gardening", "Pruning the orchard"),
    ("childcare", "Looking after the kids after school"),
    ("repairs", "Fixing a leaking tap"),
    ("repairs", "Mending a bicycle"),
    ("cooking", "Cooking for the Friday supper"),
    ("lessons", "Guitar lesson"),
    ("lessons", "Help with a tax form"),
    ("transport", "Lift to the hospital"),
    ("care", "Visiting and shopping for a neighbour"),
)

EUR_ACCOUNTS = (
    ("Assets:Bank", "Bank account", AccountType.ASSET),
    ("Assets:EmergencyFund", "Emergency fund", AccountType.ASSET),
    ("Income:Farm", "Farm shop sales", AccountType.INCOME),
    ("Income:Crafts", "Crafts sales", AccountType.INCOME),
    ("Income:Workshop", "Workshops", AccountType.INCOME),
    ("Income:Grants", "Grants", AccountType.INCOME),
    ("Expenses:Food", "Food", AccountType.EXPENSE),
    ("Expenses:Housing", "Rent of the workshop", AccountType.EXPENSE),
    ("Expenses:Tools", "Tools and seeds", AccountType.EXPENSE),
)

MONTHLY_EUR = (
    # (debit, credit, cents, description)
    ("Assets:Bank", "Income:Farm", 48_000, "Farm shop takings"),
    ("Assets:Bank", "Income:Crafts", 16_500, "Crafts market"),
    ("Assets:Bank", "Income:Workshop", 22_000, "Weekend workshop"),
    ("Expenses:Food", "Assets:Bank", 31_000, "Shared food"),
    ("Expenses:Housing", "Assets:Bank", 40_000, "Workshop rent"),
    ("Expenses:Tools", "Assets:Bank", 7_500, "Tools and seeds"),
    ("Assets:EmergencyFund", "Assets:Bank", 10_000, "Monthly transfer to the emergency fund"),
)


async def seed_demo(
    ledger: Ledger, economy: Economy | None = None, governance: Governance | None = None
) -> tuple[Community, bool]:
    """The demo community, created with its members and entries unless it exists already;
    the flag says whether it was created now. With ``economy``, also its co-op economy; its
    governance through ``governance`` (by default, the bootstrap's over the ledger's units)."""
    try:
        return await ledger.get_community_by_slug(DEMO_SLUG), False
    except errors.CommunityNotFound:
        pass
    community = await ledger.create_community(DEMO_SLUG, "Riverside Time-Bank (demo)")
    members = [
        await ledger.create_member(community.id, name, hours_min=HOURS_MIN) for name in MEMBERS
    ]
    await _seed_hours(ledger, community, members, random.Random(2026))  # noqa: S311 - demo data
    await _seed_money(ledger, community)
    # The economy first: its chart designates the accounts the governance seeding reuses.
    if economy is not None:
        await seed_economy(ledger, economy, community, members)
    await seed_governance(ledger, community, governance or governance_of(ledger))
    return community, True


async def _seed_hours(
    ledger: Ledger, community: Community, members: list[Member], rng: random.Random
) -> None:
    start = date.today() - timedelta(days=DEMO_DAYS)
    # A few generous members give most of the help, as in real time-banks.
    weights = [6, 5, 4, 3, 3, 2, 2, 2, 1, 1, 1, 1]
    for day in range(0, DEMO_DAYS, 2):
        provider, receiver = rng.choices(members, weights=weights, k=1)[0], rng.choice(members)
        if provider == receiver:
            continue
        category, what = rng.choice(SERVICES)
        minutes = rng.choice((30, 45, 60, 90, 120, 180))
        exchange = _exchange(
            provider, receiver, minutes, what, category, day=start + timedelta(days=day)
        )
        try:
            await ledger.post_entry(community.id, exchange)
        except errors.LimitExceeded:
            continue  # the receiver is at their limit: the time-bank refuses, as it would live
    # Two exchanges still wait for their receiver to confirm.
    for provider, receiver, what in ((members[1], members[0], "Help with the move"),
                                     (members[4], members[2], "Batch cooking")):  # fmt: skip
        exchange = _exchange(provider, receiver, 60, what, "care", day=date.today(), pending=True)
        await ledger.post_entry(community.id, exchange)


def _exchange(
    provider: Member,
    receiver: Member,
    minutes: int,
    what: str,
    category: str,
    *,
    day: date,
    pending: bool = False,
) -> NewEntry:
    """Help from ``provider`` to ``receiver``: debit the receiver, credit the giver."""
    return NewEntry(
        (
            PostingSpec(receiver.hours_account_id, minutes),
            PostingSpec(provider.hours_account_id, -minutes),
        ),
        description=what,
        pending=pending,
        effective_date=day,
        kind="exchange",
        metadata={
            "provider_member_id": str(provider.id),
            "receiver_member_id": str(receiver.id),
            "category": category,
        },
    )


async def _seed_money(ledger: Ledger, community: Community) -> None:
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    accounts: dict[str, Account] = {}
    for code, name, kind in EUR_ACCOUNTS:
        accounts[code] = await ledger.open_account(
            community.id, NewAccount(code, name, kind, "EUR")
        )
    start = date.today() - timedelta(days=DEMO_DAYS)

    async def move(debit: str, credit: str, cents: int, what: str, day: date) -> None:
        postings = (
            PostingSpec(accounts[debit].id, cents),
            PostingSpec(accounts[credit].id, -cents),
        )
        await ledger.post_entry(community.id, NewEntry(postings, what, effective_date=day))

    await move("Assets:Bank", "Income:Grants", 250_000, "Greenhouse grant", start)
    for month in range(3):
        day = start + timedelta(days=30 * month + 5)
        for debit, credit, cents, what in MONTHLY_EUR:
            await move(debit, credit, cents, what, day)


ROLE_SAYS: Final = {
    TREASURER_ROLE: "treasurer in office: acts with the treasurer scope, sees every account",
    STEWARD_ROLE: "steward: confirms any member's exchange, sees only their own accounts",
    "": "member: sees only their own accounts; other members' answer 404",
}
"""What a demo member's token may do, by the role they hold now ("": none)."""


@dataclass(frozen=True, slots=True)
class DemoMember:
    name: str
    role: str
    """``treasurer``, ``steward`` or ``""`` (a plain member), held now."""
    token: str

    @property
    def says(self) -> str:
        return ROLE_SAYS[self.role]


@dataclass(frozen=True, slots=True)
class DemoAccess:
    """Fresh tokens for trying the demo: a treasurer key and member tokens of the treasurer in
    office, a steward and a plain member, each with the role it holds."""

    treasurer: str
    members: tuple[DemoMember, ...]

    @staticmethod
    async def issue(
        access: Access,
        ledger: Ledger,
        community: Community,
        roles_of: Callable[[uuid.UUID, uuid.UUID], Awaitable[frozenset[str]]],
    ) -> DemoAccess:
        scopes = frozenset({Scope.READ, Scope.WRITE, Scope.TREASURER})
        _, treasurer = await access.issue_api_key(community.id, "demo treasurer", scopes)
        chosen: dict[str, Member] = {}
        for member in await ledger.list_members(community.id, limit=100):
            roles = await roles_of(community.id, member.id)
            role = TREASURER_ROLE if TREASURER_ROLE in roles else min(roles, default="")
            chosen.setdefault(role, member)
        tokens = []
        for role in (TREASURER_ROLE, STEWARD_ROLE, ""):
            if role in chosen:
                member = chosen[role]
                _, token = await access.issue_member_token(community.id, member.id, "demo")
                tokens.append(DemoMember(member.name, role, token))
        return DemoAccess(treasurer, tuple(tokens))
