"""Two nodes in one process, each on its own database and clock-driven, joined by a wire the
tests can cut, and whose messages they can capture, repeat, reorder and delay: the world of the
protocol tests between installs (``tests/federation/test_two_nodes.py`` runs two real servers).

Each node is wired as ``api.bootstrap`` wires it, with the test's clock and the wire as its
transport; the wire hands a signed message to the other node's receiver and maps its errors to
HTTP statuses as the app does (``api.http.common.errors``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from api.http.common.errors import STATUS_BY_CODE
from ledger.books.service import Ledger
from ledger.events.url_guard import AllowList, Target
from ledger.events.webhooks import RetryPolicy
from ledger.federation.abandon import PeerAbandonment
from ledger.federation.courier import MESSAGES_PATH, Courier, CourierConfig, PeerTransport
from ledger.federation.courier import SendFailed as Cut
from ledger.federation.identity import NodeKey
from ledger.federation.invitation import Invitations, invitation
from ledger.federation.link_peer import LinkMessages
from ledger.federation.link_peer_steps import LinkSteps
from ledger.federation.model import CommodityTerms, Link, Rate, Transfer, TransferRequest
from ledger.federation.peering import NodeIdentity, PeerReceiver
from ledger.federation.ports import FederationTransactions
from ledger.federation.remote import RemoteTransfers
from ledger.federation.remote_directory import RemoteDirectory
from ledger.federation.remote_exchanges import RemoteExchanges
from ledger.federation.remote_reconcile import RemoteReconciliation
from ledger.federation.rotation import KEY_STEP, KeyRotation
from ledger.federation.service import Federation
from ledger.kernel import errors
from ledger.kernel.model import HOURS, Community, Member, new_id
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.events import SqlEventStore
from ledger.store.federation import SqlFederationStore
from ledger.store.federation_peer import SqlPeerStore
from ledger.store.federation_stances import SqlLinkStances
from ledger.store.governance import SqlGovernanceStore

HOLD_WINDOW_S = 120


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Wire:
    """The network: ``down`` nodes answer nothing; ``lose_answers`` drops answers after the
    receiver took the message; every message delivered is kept in ``sent``."""

    receivers: dict[str, PeerReceiver] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    lose_answers: bool = False
    capture_only: bool = False
    """Keep each message in ``sent`` without delivering it (a test delivers it later)."""
    sent: list[tuple[str, str]] = field(default_factory=list)

    @asynccontextmanager
    async def open(self, _timeout_s: float) -> AsyncIterator[PeerTransport]:
        yield self

    async def send(self, target: Target, token: str) -> tuple[int, str]:
        base = target.url.removesuffix(MESSAGES_PATH)
        if base in self.down or base not in self.receivers:
            raise Cut("connection refused")
        self.sent.append((base, token))
        if self.capture_only:
            raise Cut("held on the wire")
        status, body = await self.deliver(base, token)
        if self.lose_answers:
            raise Cut("connection reset before the answer")
        return status, body

    async def deliver(self, base: str, token: str) -> tuple[int, str]:
        """What the node at ``base`` answers ``token`` (status, body), as over HTTP."""
        try:
            return 200, await self.receivers[base].receive(token)
        except errors.LedgerError as exc:
            return STATUS_BY_CODE.get(exc.code, 400), msgspec.json.encode(
                {"code": exc.code, "detail": exc.detail}
            ).decode()


@dataclass
class Node:
    url: str
    ledger: Ledger
    federation: Federation
    identity: NodeIdentity
    remote: RemoteTransfers
    receiver: PeerReceiver
    courier: Courier
    invitations: Invitations
    reconciliation: RemoteReconciliation
    rotation: KeyRotation
    units: SqlUnitOfWorkFactory
    abandonment: PeerAbandonment
    community: Community | None = None
    member: Member | None = None

    @property
    def cid(self) -> uuid.UUID:
        assert self.community is not None
        return self.community.id

    async def key(self) -> NodeKey:
        return await self.identity.ensure_key()

    async def keys(self) -> list[NodeKey]:
        async with self.units(write=False) as unit:
            return await SqlPeerStore.of(unit).keys()

    async def hours(self) -> tuple[int, int]:
        """The member's hours: posted and pending."""
        assert self.member is not None
        account = await self.ledger.get_account(self.cid, self.member.hours_account_id)
        return account.balance.posted, account.balance.pending

    async def transfer(self, transfer_id: uuid.UUID) -> Transfer:
        return await self.federation.transfers.get(self.cid, transfer_id)

    async def event_types(self) -> list[str]:
        """The community's federation events, oldest first (the feed and webhooks send them)."""
        async with self.units(write=False) as unit:
            found = await SqlEventStore.of(unit).list_events(
                self.cid, after=(0, 0), types=None, limit=500
            )
        return [event.type for event in found if event.type.startswith("federation.")]

    async def waiting(self) -> int:
        async with self.units(write=False) as unit:
            return len(await SqlPeerStore.of(unit).waiting(self.cid))


def node(engine: AsyncEngine, url: str, clock: Clock, wire: Wire) -> Node:
    """A node wired like ``api.bootstrap._between_nodes``, on ``engine``, ``clock`` and ``wire``."""
    units = SqlUnitOfWorkFactory(engine)
    ledger = Ledger(units, clock=clock)
    transactions = FederationTransactions(
        units, SqlFederationStore.of, SqlGovernanceStore.of, clock
    )
    federation = Federation.over(transactions, LinkMessages(SqlPeerStore.of, SqlLinkStances.of))
    remote = RemoteTransfers(units, transactions, SqlPeerStore.of, clock)
    exchanges = RemoteExchanges(units, transactions, SqlPeerStore.of, clock)
    rotation = KeyRotation(units, SqlPeerStore.of, clock)
    links = LinkSteps(transactions, SqlPeerStore.of, SqlLinkStances.of)
    config = CourierConfig(
        timeout_s=1,
        retry=RetryPolicy(retry_base_s=1, retry_cap_s=4),
        allow=AllowList.parse("127.0.0.1"),
    )
    courier = Courier(
        units,
        SqlPeerStore.of,
        clock,
        url,
        transport=wire.open,
        answers={
            **remote.answers(),
            **links.answers(),
            **exchanges.answers(),
            KEY_STEP: rotation.answered,
        },
        config=config,
    )
    federation.exchanges.reach_other_nodes(exchanges, RemoteDirectory(courier.ask, clock))
    reconciliation = RemoteReconciliation(
        units, transactions, courier, SqlPeerStore.of, clock=clock, node_url=url
    )
    steps = {
        **remote.steps(),
        **links.steps(),
        **exchanges.steps(),
        **reconciliation.steps(),
        KEY_STEP: rotation.step(),
    }
    receiver = PeerReceiver(units, SqlPeerStore.of, clock, url, steps)
    wire.receivers[url] = receiver
    return Node(
        url,
        ledger,
        federation,
        NodeIdentity(units, SqlPeerStore.of, clock),
        remote,
        receiver,
        courier,
        Invitations(transactions),
        reconciliation,
        rotation,
        units,
        PeerAbandonment(units, transactions, SqlPeerStore.of, clock),
    )


ONE_TO_ONE = Rate(1, 1)


def hours_terms(limit: int = 600, rate: Rate = ONE_TO_ONE) -> tuple[CommodityTerms, ...]:
    return (CommodityTerms(HOURS, HOURS, rate, limit, limit),)


async def linked(
    a: Node, b: Node, clock: Clock, *, limit: int = 600, rate: Rate = ONE_TO_ONE
) -> Link:
    """A community with a member on each node, linked by invitation and acceptance; A's view."""
    for side, name in ((a, "Riverside"), (b, "Hilltop")):
        side.community = await side.ledger.create_community(
            f"{name.lower()}-{uuid.uuid4().hex[:10]}", name
        )
        side.member = await side.ledger.create_member(
            side.cid, f"Member of {name}", hours_min=-1200
        )
    assert a.community is not None
    token = invitation(
        await a.key(),
        a.url,
        (a.community.slug, a.community.name),
        hours_terms(limit, rate),
        HOLD_WINDOW_S,
        now=clock(),
    )
    _, acceptance = await b.invitations.accept_invitation(b.cid, token, await b.key(), b.url)
    return await a.invitations.complete(a.cid, acceptance, await a.keys(), a.url)


def request(a: Node, b: Node, link: Link, amount: int) -> TransferRequest:
    assert a.member is not None and b.member is not None
    return TransferRequest(
        transfer_id=new_id(),
        link_id=link.id,
        payer_member_id=a.member.id,
        payee_member_id=b.member.id,
        commodity=HOURS,
        amount=amount,
    )
