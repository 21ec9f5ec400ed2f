"""Two communities of one install, Riverside (A) and Hilltop (B), with a steward each, a payer
and a payee, hours and euros, and a clock to move: the world of the federation tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger, NewAccount
from ledger.federation.model import CommodityTerms, Link, Rate, TransferRequest
from ledger.federation.ports import FederationTransactions
from ledger.federation.service import Federation
from ledger.governance.model import Role
from ledger.governance.service import Governance
from ledger.governance.transactions import GovernanceTransactions
from ledger.kernel.model import HOURS, Account, AccountType, Community, Member, new_id
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.federation import SqlFederationStore
from ledger.store.governance import SqlGovernanceStore


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 5, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Side:
    community: Community
    steward: Member
    member: Member
    """The payer in A, the payee in B (each can pay the other too)."""
    eur: Account

    @property
    def cid(self) -> uuid.UUID:
        return self.community.id


@dataclass
class World:
    ledger: Ledger
    governance: Governance
    federation: Federation
    clock: Clock
    a: Side
    b: Side
    engine: AsyncEngine

    async def balance(self, side: Side, account_id: uuid.UUID) -> int:
        return (await self.ledger.get_account(side.cid, account_id)).balance.posted

    async def link(self, **changes: Any) -> Link:
        """An active link A–B, as A sees it: hours 1:1, euros at ``rate`` (B cents per A
        cent), limits 600 minutes / 10 000 cents each way unless ``changes`` say otherwise."""
        terms = hours_terms(**changes)
        links = self.federation.links
        link = await links.propose(self.a.cid, self.b.community.slug, terms)
        await links.consent(self.a.cid, link.id, 1, self.a.steward.id)
        await links.accept(self.b.cid, link.id, self.b.steward.id)
        return await links.get(self.a.cid, link.id)

    def request(self, link_id: uuid.UUID, amount: int, **changes: object) -> TransferRequest:
        fields: dict[str, object] = {
            "transfer_id": new_id(),
            "link_id": link_id,
            "payer_member_id": self.a.member.id,
            "payee_member_id": self.b.member.id,
            "commodity": HOURS,
            "amount": amount,
        } | changes
        return TransferRequest(**fields)  # type: ignore[arg-type]


EUR_RATE = Rate(3, 2)


def hours_terms(
    *,
    we_owe: int = 600,
    they_owe: int = 600,
    rate: Rate = EUR_RATE,
    eur_we_owe: int = 10_000,
    eur_they_owe: int = 10_000,
) -> tuple[CommodityTerms, ...]:
    return (
        CommodityTerms("EUR", "EUR", rate, eur_we_owe, eur_they_owe),
        CommodityTerms(HOURS, HOURS, Rate(1, 1), we_owe, they_owe),
    )


async def make_side(ledger: Ledger, governance: Governance, slug: str, name: str) -> Side:
    community = await ledger.create_community(f"{slug}-{uuid.uuid4().hex[:10]}", name)
    steward = await ledger.create_member(community.id, f"Steward of {name}")
    member = await ledger.create_member(community.id, f"Member of {name}", hours_min=-1200)
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    eur = await ledger.open_account(
        community.id,
        NewAccount(
            f"member:{member.id}:EUR", "Euros", AccountType.LIABILITY, "EUR", member.id, -50_000
        ),
    )
    await governance.roles.assign(community.id, steward.id, Role.STEWARD)
    return Side(community, steward, member, eur)


async def make_world(engine: AsyncEngine) -> World:
    clock = Clock()
    uow = SqlUnitOfWorkFactory(engine)
    ledger = Ledger(uow, clock=clock)
    governance = Governance.over(GovernanceTransactions(uow, SqlGovernanceStore.of, clock), ledger)
    federation = Federation.over(
        FederationTransactions(uow, SqlFederationStore.of, SqlGovernanceStore.of, clock)
    )
    a = await make_side(ledger, governance, "riverside", "Riverside")
    b = await make_side(ledger, governance, "hilltop", "Hilltop")
    return World(ledger, governance, federation, clock, a, b, engine)
