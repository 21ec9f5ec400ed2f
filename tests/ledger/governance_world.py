"""A small community for the governance tests: four members, euros, a fund, a clock to move."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger, NewAccount
from ledger.governance.model import GovernanceSettings, Role
from ledger.governance.service import Governance
from ledger.governance.transactions import GovernanceTransactions
from ledger.kernel.model import Account, AccountType, Community, Member, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.governance import SqlGovernanceStore

ACCOUNTS = (
    ("Assets:Bank", AccountType.ASSET),
    ("Assets:EmergencyFund", AccountType.ASSET),
    ("Expenses:Food", AccountType.EXPENSE),
    ("Expenses:Food:Bread", AccountType.EXPENSE),
    ("Expenses:Foodstuff", AccountType.EXPENSE),
    ("Expenses:Repairs", AccountType.EXPENSE),
    ("Income:Farm", AccountType.INCOME),
)
NAMES = {"Expenses:Food": "Food and kitchen"}
"""Accounts named otherwise than by their code: the report shows a budget line by this name."""


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    ledger: Ledger
    governance: Governance
    clock: Clock
    community: Community
    members: list[Member]
    accounts: dict[str, Account]
    engine: AsyncEngine

    @property
    def cid(self) -> uuid.UUID:
        return self.community.id

    async def move(
        self, debit: str, credit: str, cents: int, day: date, *, pending: bool = False
    ) -> None:
        postings = (
            PostingSpec(self.accounts[debit].id, cents),
            PostingSpec(self.accounts[credit].id, -cents),
        )
        entry = NewEntry(postings, "test", pending=pending, effective_date=day)
        await self.ledger.post_entry(self.cid, entry)

    async def stewards(self, *indexes: int) -> None:
        for index in indexes:
            await self.governance.roles.assign(self.cid, self.members[index].id, Role.STEWARD)

    async def configure(self, **changes: object) -> None:
        settings = GovernanceSettings(
            self.cid, fund_account_id=self.accounts["Assets:EmergencyFund"].id
        )
        for name, value in changes.items():
            object.__setattr__(settings, name, value)
        await self.governance.fund.configure(self.cid, settings)


async def make_world(engine: AsyncEngine) -> World:
    clock = Clock()
    uow = SqlUnitOfWorkFactory(engine)
    ledger = Ledger(uow)
    governance = Governance.over(GovernanceTransactions(uow, SqlGovernanceStore.of, clock), ledger)
    community = await ledger.create_community(f"g-{uuid.uuid4().hex[:12]}", "Governed")
    members = [
        await ledger.create_member(community.id, name)
        for name in ("Ann", "Bob", "Cy", "Dee", "Eve")
    ]
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    accounts = {
        code: await ledger.open_account(
            community.id, NewAccount(code, NAMES.get(code, code), kind, "EUR")
        )
        for code, kind in ACCOUNTS
    }
    return World(ledger, governance, clock, community, members, accounts, engine)
