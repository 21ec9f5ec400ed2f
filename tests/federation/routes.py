"""Three communities on two or three in-process nodes (``nodes.py``): a payer community A, a hub H
on another node, and a payee community C on a third node or back on A's — linked A–H and H–C
by invitation, as stewards link them. The world of the routing tests between installs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ledger.federation.invitation import invitation
from ledger.federation.model import CommodityTerms, Link, Rate, Transfer, TransferRequest
from ledger.governance.model import Role
from ledger.governance.service import Governance
from ledger.governance.transactions import GovernanceTransactions
from ledger.kernel.model import HOURS, Community, Member, new_id
from ledger.store.events import SqlEventStore
from ledger.store.federation_peer import SqlPeerStore
from ledger.store.governance import SqlGovernanceStore
from tests.federation.nodes import HOLD_WINDOW_S, Clock, Node, Wire


@dataclass
class Place:
    """A community with one member, on a node."""

    node: Node
    community: Community
    member: Member

    @property
    def cid(self) -> uuid.UUID:
        return self.community.id

    async def hours(self) -> tuple[int, int]:
        """The member's hours: posted and pending."""
        account = await self.node.ledger.get_account(self.cid, self.member.hours_account_id)
        return account.balance.posted, account.balance.pending

    async def clearing(self, link: Link) -> tuple[int, int]:
        """The posted and pending balance of this side's clearing account of ``link``."""
        terms = link.versions[0].terms_for(HOURS)
        assert terms is not None and terms.clearing_account_id is not None
        account = await self.node.ledger.get_account(self.cid, terms.clearing_account_id)
        return account.balance.posted, account.balance.pending

    async def transfer(self, transfer_id: uuid.UUID) -> Transfer:
        return await self.node.federation.transfers.get(self.cid, transfer_id)

    async def transfer_events(self) -> list[str]:
        """The community's ``federation.transfer.*`` events, oldest first."""
        async with self.node.units(write=False) as unit:
            found = await SqlEventStore.of(unit).list_events(
                self.cid, after=(0, 0), types=None, limit=500
            )
        return [e.type for e in found if e.type.startswith("federation.transfer.")]

    async def transfers(self) -> list[Transfer]:
        return list(await self.node.federation.transfers.list_transfers(self.cid, limit=100))


@dataclass
class Route:
    a: Place
    h: Place
    c: Place
    ah: Link
    """The link A–H, A's view."""
    ha: Link
    """The link A–H, the hub's view."""
    hc: Link
    """The link H–C, the hub's view."""
    clock: Clock
    wire: Wire

    @property
    def nodes(self) -> list[Node]:
        return list({id(p.node): p.node for p in (self.a, self.h, self.c)}.values())

    def request(self, amount: int, **changes: object) -> TransferRequest:
        fields: dict[str, object] = {
            "transfer_id": new_id(),
            "link_id": self.ah.id,
            "payer_member_id": self.a.member.id,
            "payee_member_id": self.c.member.id,
            "commodity": HOURS,
            "amount": amount,
            "destination": self.c.community.slug,
        } | changes
        return TransferRequest(**fields)  # type: ignore[arg-type]

    async def pay(self, amount: int, **changes: object) -> Transfer:
        """A pays C ``amount`` through the hub: prepared at A, the rest by peer messages."""
        return await self.a.node.remote.create(self.a.cid, self.request(amount, **changes), None)

    async def waiting(self) -> int:
        """Messages not answered yet in every node's outbox (for this test's communities)."""
        count = 0
        for node in self.nodes:
            async with node.units(write=False) as unit:
                store = SqlPeerStore.of(unit)
                for place in (self.a, self.h, self.c):
                    if place.node is node:
                        count += len(await store.waiting(place.cid))
        return count

    async def deliver_until_quiet(self, rounds: int = 8) -> None:
        """Courier passes on every node, the clock moved past each backoff, until no message
        waits (at most ``rounds``)."""
        for _ in range(rounds):
            for node in self.nodes:
                await node.courier.deliver_due()
            if await self.waiting() == 0:
                return
            self.clock.advance(5)


ONE_TO_ONE = Rate(1, 1)


def hours(limit: int, rate: Rate = ONE_TO_ONE) -> tuple[CommodityTerms, ...]:
    return (CommodityTerms(HOURS, HOURS, rate, limit, limit),)


async def place(node: Node, name: str) -> Place:
    community = await node.ledger.create_community(f"{name.lower()}-{uuid.uuid4().hex[:10]}", name)
    member = await node.ledger.create_member(community.id, f"Member of {name}", hours_min=-1200)
    return Place(node, community, member)


async def link(
    one: Place, other: Place, clock: Clock, terms: tuple[CommodityTerms, ...]
) -> tuple[Link, Link]:
    """``one`` invites ``other``, which accepts: the link, ``one``'s view and ``other``'s. On
    one node, by the install's own proposal and its stewards' consent."""
    if one.node is other.node:
        return await _on_one_node(one, other, clock, terms)
    token = invitation(
        await one.node.key(),
        one.node.url,
        (one.community.slug, one.community.name),
        terms,
        HOLD_WINDOW_S,
        now=clock(),
    )
    theirs, acceptance = await other.node.invitations.accept_invitation(
        other.cid, token, await other.node.key(), other.node.url
    )
    ours = await one.node.invitations.complete(
        one.cid, acceptance, await one.node.keys(), one.node.url
    )
    return ours, theirs


async def route(
    a: Node,
    h: Node,
    c: Node,
    clock: Clock,
    wire: Wire,
    *,
    ah_limit: int = 600,
    hc_terms: tuple[CommodityTerms, ...] | None = None,
) -> Route:
    """Riverside on ``a`` linked to the hub Commons on ``h``, linked to Valley on ``c``."""
    pa, ph, pc = await place(a, "Riverside"), await place(h, "Commons"), await place(c, "Valley")
    ah, ha = await link(pa, ph, clock, hours(ah_limit))
    hc, _ = await link(ph, pc, clock, hc_terms or hours(600))
    return Route(pa, ph, pc, ah, ha, hc, clock, wire)


async def _on_one_node(
    one: Place, other: Place, clock: Clock, terms: tuple[CommodityTerms, ...]
) -> tuple[Link, Link]:
    node = one.node
    roles = Governance.over(
        GovernanceTransactions(node.units, SqlGovernanceStore.of, clock), node.ledger
    ).roles
    stewards = []
    for side in (one, other):
        steward = await node.ledger.create_member(side.cid, f"Steward of {side.community.name}")
        await roles.assign(side.cid, steward.id, Role.STEWARD)
        stewards.append(steward)
    links = node.federation.links
    proposed = await links.propose(one.cid, other.community.slug, terms, HOLD_WINDOW_S)
    await links.consent(one.cid, proposed.id, 1, stewards[0].id)
    await links.accept(other.cid, proposed.id, stewards[1].id)
    return await links.get(one.cid, proposed.id), await links.get(other.cid, proposed.id)
