"""A small demo community: members who swap hours, a farm shop in euros, an emergency fund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ledger import errors
from ledger.access import Scope
from ledger.credentials import Access
from ledger.model import AccountType, Community, NewEntry, PostingSpec
from ledger.service import Ledger, NewAccount

DEMO_SLUG = "demo"


async def seed_demo(ledger: Ledger) -> tuple[Community, bool]:
    """The demo community, created with its members and entries unless it exists already;
    the flag says whether it was created now."""
    try:
        return await ledger.get_community_by_slug(DEMO_SLUG), False
    except errors.CommunityNotFound:
        pass
    community = await ledger.create_community(DEMO_SLUG, "Riverside Time-Bank (demo)")
    cid = community.id
    await ledger.add_commodity(cid, "EUR", "Euro", 2)
    ann, bob, chloe = [
        await ledger.create_member(cid, name, hours_min=-20 * 60)
        for name in ("Ann Weaver", "Bob Gardener", "Chloe Baker")
    ]

    def account(code: str, name: str, type_: AccountType) -> NewAccount:
        return NewAccount(code, name, type_, "EUR")

    bank = await ledger.open_account(cid, account("Assets:Bank", "Bank account", AccountType.ASSET))
    farm = await ledger.open_account(
        cid, account("Income:Farm", "Farm shop sales", AccountType.INCOME)
    )
    fund = await ledger.open_account(
        cid, account("Assets:EmergencyFund", "Emergency fund", AccountType.ASSET)
    )
    today = date.today()
    hours = [
        (bob, ann, 90, "Fixed the garden fence", 6),
        (ann, chloe, 120, "Sewing lesson", 4),
        (chloe, bob, 60, "Bread for the week", 2),
    ]
    for receiver, provider, minutes, what, days_ago in hours:
        await ledger.post_entry(
            cid,
            NewEntry(
                (
                    PostingSpec(receiver.hours_account_id, minutes),
                    PostingSpec(provider.hours_account_id, -minutes),
                ),
                description=what,
                effective_date=today - timedelta(days=days_ago),
                kind="exchange",
            ),
        )
    await ledger.post_entry(
        cid,
        NewEntry(
            (PostingSpec(ann.hours_account_id, 45), PostingSpec(bob.hours_account_id, -45)),
            description="Help with the move (awaiting Ann's confirmation)",
            pending=True,
            kind="exchange",
        ),
    )
    await ledger.post_entry(
        cid,
        NewEntry(
            (PostingSpec(bank.id, 48_000), PostingSpec(farm.id, -48_000)),
            description="Farm shop takings, October",
            effective_date=today - timedelta(days=20),
        ),
    )
    await ledger.post_entry(
        cid,
        NewEntry(
            (PostingSpec(fund.id, 10_000), PostingSpec(bank.id, -10_000)),
            description="Monthly transfer to the emergency fund",
        ),
    )
    return community, True


@dataclass(frozen=True, slots=True)
class DemoAccess:
    """Fresh tokens for trying the demo: a treasurer key and two member tokens."""

    treasurer: str
    members: tuple[tuple[str, str], ...]

    @staticmethod
    async def issue(access: Access, ledger: Ledger, community: Community) -> DemoAccess:
        scopes = frozenset({Scope.READ, Scope.WRITE, Scope.TREASURER})
        _, treasurer = await access.issue_api_key(community.id, "demo treasurer", scopes)
        tokens = []
        for member in await ledger.list_members(community.id, limit=2):
            _, token = await access.issue_member_token(community.id, member.id, "demo")
            tokens.append((member.name, token))
        return DemoAccess(treasurer, tuple(tokens))
