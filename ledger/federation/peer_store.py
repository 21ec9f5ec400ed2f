"""The storage port of federation between installs (``ledger.store.federation_peer`` is the SQL
side): this node's keys, the partner keys bound to a link, the peer inbox and outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ledger.federation.identity import NodeKeyStore, PublicKey
from ledger.federation.messages import LinkPeer
from ledger.kernel.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class InboxKey:
    """What makes a received message the same message: (link, transfer, step) at one side."""

    community_id: uuid.UUID
    link_id: uuid.UUID
    transfer_id: uuid.UUID
    step: str


@dataclass(frozen=True, slots=True)
class Received:
    """A state-changing message already handled: its body's hash and the answer given."""

    body_hash: str
    answer: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message waiting in the outbox until the partner's final answer is recorded."""

    community_id: uuid.UUID
    id: uuid.UUID
    link_id: uuid.UUID
    transfer_id: uuid.UUID
    step: str
    peer_url: str
    body: dict[str, Any]
    created_at: datetime
    expires_at: datetime | None
    """For a prepare: the hold's expiry, after which the outbox asks for the state instead."""
    attempts: int
    next_attempt_at: datetime


class PeerStore(NodeKeyStore, Protocol):
    async def peer(self, link_id: uuid.UUID, now: datetime) -> LinkPeer | None:
        """The link's partner node with its keys valid at ``now``; None if this node has no
        link with that id to another node."""
        ...

    async def bind_key(
        self, peer: LinkPeer, key: PublicKey, now: datetime, previous_until: datetime
    ) -> None:
        """Binds the partner's new key to the link; its keys bound so far verify until
        ``previous_until``."""
        ...

    async def remote_links(self) -> Sequence[tuple[uuid.UUID, uuid.UUID, str]]:
        """(community, link, partner node URL) of every open link to another node."""
        ...

    # The inbox
    async def lock_link(self, community_id: uuid.UUID, link_id: uuid.UUID) -> None:
        """Locks this side's row of the link for the transaction: messages of one link are
        taken one at a time, so a duplicate arriving while its twin is handled waits for it and
        then finds its answer in the inbox."""
        ...

    async def received(self, key: InboxKey) -> Received | None: ...
    async def remember(self, key: InboxKey, received: Received, now: datetime) -> None: ...

    # The outbox
    async def enqueue(self, message: Outbound) -> None:
        """Adds the message unless one for the same (link, transfer, step) is there already."""
        ...

    async def due(self, now: datetime, limit: int) -> Sequence[Outbound]: ...
    async def lease(
        self, message: Outbound, token: uuid.UUID, now: datetime, until: datetime
    ) -> bool: ...
    async def retry(
        self, message: Outbound, token: uuid.UUID, next_attempt_at: datetime, error: str
    ) -> None: ...
    async def done(self, message: Outbound, token: uuid.UUID, now: datetime) -> bool:
        """Marks the message answered if ``token`` still holds its lease."""
        ...

    async def end_messages(self, community_id: uuid.UUID, link_id: uuid.UUID, now: datetime) -> int:
        """Ends the link's unanswered messages without an answer (its partner node abandoned,
        ``ledger.federation.abandon``); how many."""
        ...

    async def waiting(self, community_id: uuid.UUID | None = None) -> Sequence[Outbound]:
        """Messages not yet answered (for operators and tests)."""
        ...


PeerStoreOf = Callable[[UnitOfWork[object]], PeerStore]
