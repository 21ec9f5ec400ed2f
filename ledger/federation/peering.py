"""Receiving from partner nodes: every message is verified first (``messages.open_message``),
state-changing steps go through the idempotent inbox, and the answer is signed by this node.

The inbox keys each state-changing message by (link, transfer, step) with the hash of its body:
a repeat — duplicated, delayed or reordered — gets the answer first given (signed anew, with a
fresh time) and has no second effect; a repeat whose body differs is refused
(:class:`PeerReplayConflict`, HTTP 409). A query (``state``) is answered from the current
state each time and is not kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ledger.federation.identity import NodeKey, current, new_node_key, published
from ledger.federation.messages import (
    LinkPeer,
    PeerForbidden,
    PeerMessage,
    body_hash,
    open_message,
    sign,
)
from ledger.federation.peer_store import InboxKey, PeerStore, PeerStoreOf, Received
from ledger.kernel import errors
from ledger.kernel.clock import Clock
from ledger.kernel.uow import UnitOfWork, UnitOfWorkFactory

ANSWER_SUFFIX: Final = ".answer"


class PeerReplayConflict(errors.LedgerError):
    """A message already handled for this (link, transfer, step) came again with another body."""

    code = "peer_replay_conflict"


class UnknownStep(errors.InvalidInput):
    """The message names a step this node does not take."""

    code = "peer_unknown_step"


Handler = Callable[[UnitOfWork[Any], PeerMessage, LinkPeer], Awaitable[dict[str, Any]]]
"""Takes one step in the receiving unit of work and answers the answer's body."""


Again = Callable[
    [UnitOfWork[Any], PeerMessage, LinkPeer, dict[str, Any]], Awaitable[dict[str, Any]]
]
"""Answers a repeat of a recorded step, given the answer first given."""


@dataclass(frozen=True, slots=True)
class Step:
    handle: Handler
    recorded: bool
    """Whether the step changes state (then it goes through the inbox)."""
    again: Again | None = None
    """For a recorded step whose first answer may be "not decided yet" (a hub's routed
    prepare): answers a repeat from the state as it is now; else the first answer is repeated."""


errors.ERROR_TYPES.update({c.code: c for c in (PeerReplayConflict, UnknownStep)})


class PeerReceiver:
    def __init__(
        self,
        units: UnitOfWorkFactory[object],
        store_of: PeerStoreOf,
        clock: Clock,
        node_url: str | None,
        steps: Mapping[str, Step],
    ) -> None:
        self._units = units
        self._store_of = store_of
        self._clock = clock
        self.node_url = node_url
        self._steps = steps

    async def receive(self, token: str) -> str:
        """The signed answer to one signed message (errors before anything is written)."""
        now = self._clock()
        async with self._units(write=False) as unit:
            store = self._store_of(unit)
            message, peer = await open_message(token, lambda link: store.peer(link, now), now)
        if self.node_url is None or message.recipient.rstrip("/") != self.node_url.rstrip("/"):
            raise PeerForbidden("the message is addressed to another node")
        step = self._steps.get(message.step)
        if step is None:
            raise UnknownStep(f"this node takes no step {message.step!r}")
        async with self._units(write=True) as unit:
            store = self._store_of(unit)
            answer = await self._answer(unit, store, step, message, peer, now=now)
            key = current(await store.keys())
            await unit.commit()
        reply = PeerMessage(
            link_id=message.link_id,
            transfer_id=message.transfer_id,
            step=message.step + ANSWER_SUFFIX,
            sent_at=now,
            sender=self.node_url,
            recipient=peer.peer_url,
            body=answer,
        )
        return sign(reply, key)

    async def _answer(
        self,
        unit: UnitOfWork[object],
        store: PeerStore,
        step: Step,
        message: PeerMessage,
        peer: LinkPeer,
        *,
        now: datetime,
    ) -> dict[str, Any]:
        if not step.recorded:
            return await step.handle(unit, message, peer)
        digest = body_hash(message.body)
        await store.lock_link(peer.community_id, message.link_id)
        key = InboxKey(peer.community_id, message.link_id, message.transfer_id, message.step)
        found = await store.received(key)
        if found is not None:
            if found.body_hash != digest:
                raise PeerReplayConflict(
                    f"transfer {message.transfer_id} step {message.step} was received before "
                    "with another body"
                )
            if step.again is not None:
                return await step.again(unit, message, peer, found.answer)
            return found.answer
        answer = await step.handle(unit, message, peer)
        await store.remember(key, Received(digest, answer), now)
        return answer


class NodeIdentity:
    """This node's keys: made once, published, rotated."""

    def __init__(
        self, units: UnitOfWorkFactory[object], store_of: PeerStoreOf, clock: Clock
    ) -> None:
        self._units = units
        self._store_of = store_of
        self._clock = clock

    async def ensure_key(self) -> NodeKey:
        """The signing key, made now if the node has none (first start)."""
        async with self._units(write=True) as unit:
            store = self._store_of(unit)
            keys = await store.keys()
            if not any(k.public.retires_at is None for k in keys):
                key = new_node_key(self._clock())
                await store.insert(key)
                await unit.commit()
                return key
        return current(keys)

    async def keys(self) -> list[NodeKey]:
        """Every key of this node, newest first (retired ones too)."""
        async with self._units(write=False) as unit:
            return await self._store_of(unit).keys()

    async def document(self, node_url: str | None) -> dict[str, Any]:
        """What ``GET /federation/v1/node`` publishes: the URL and the keys that verify."""
        async with self._units(write=False) as unit:
            keys = await self._store_of(unit).keys()
        now = self._clock()
        return {
            "url": node_url,
            "algorithm": "Ed25519",
            "keys": [
                {
                    "kid": key.kid,
                    "jwk": key.jwk,
                    "retires_at": None if key.retires_at is None else key.retires_at.isoformat(),
                }
                for key in published(keys, now)
            ],
        }
