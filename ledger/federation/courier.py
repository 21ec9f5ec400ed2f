"""Sending to partner nodes: the durable peer outbox, delivered at least once with backoff.

A message enters the outbox in the transaction of the state change it announces (the payer
side's ``prepare`` writes its pending entry and its message together), so a node killed at any
moment either has both or neither. A worker leases a message (a token and an expiry in its row,
as webhook delivery does), signs it anew with the node's current key, checks the peer's URL with
the outgoing-URL guard (``ledger.events.url_guard``), sends it outside any transaction, verifies
the signed answer, and records what the answer means in one transaction with the message's end.
A worker that dies leaves a lease that runs out; the message is then sent again, which the
receiver's inbox makes harmless. Once a prepare's hold has expired the worker asks for the
transfer's state instead of preparing: the payee side answers its recorded outcome or records
``rejected: expired`` (docs/federation.md, "Recovery").
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

import structlog

from ledger.events.url_guard import AllowList, Resolver, Target, check, system_resolver
from ledger.events.webhooks import RetryPolicy
from ledger.federation.identity import current
from ledger.federation.messages import LinkPeer, PeerMessage, open_message, sign
from ledger.federation.peer_store import Outbound, PeerStoreOf
from ledger.federation.peering import ANSWER_SUFFIX
from ledger.federation.rotation import signing_kid
from ledger.kernel import errors
from ledger.kernel.clock import Clock
from ledger.kernel.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger("commons_ledger.federation")
MESSAGES_PATH: Final = "/federation/v1/peer/messages"
STATE_STEP: Final = "state"
PEER_ALLOW_SETTING: Final = "COMMONS_LEDGER_PEER_ALLOW"
"""The operator's allow-list of non-public partner node addresses (``api.federation_settings``)."""
_ERROR_MAX_CHARS: Final = 300


class SendFailed(Exception):
    """The peer could not be reached or did not answer."""


class PeerTransport(Protocol):
    async def send(self, target: Target, token: str) -> tuple[int, str]:
        """POSTs the signed message to ``target``'s checked address; the status and the body.
        Raises :class:`SendFailed`."""
        ...


OpenTransport = Callable[[float], AbstractAsyncContextManager[PeerTransport]]

AnswerHandler = Callable[[UnitOfWork[Any], Outbound, PeerMessage], Awaitable[bool]]
"""Records what the partner answered, in the unit of work that ends the message; True when the
answer is final (the message is done), False to ask again later."""


@dataclass(frozen=True, slots=True)
class CourierConfig:
    timeout_s: float = 10.0
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(retry_base_s=1.0, retry_cap_s=60.0)
    )
    """Backoff between attempts; a peer message never gives up (holds wait for the answer)."""
    allow: AllowList = field(default_factory=AllowList)
    batch: int = 100

    @property
    def lease_s(self) -> float:
        return 4 * self.timeout_s + 5


class Courier:
    def __init__(
        self,
        units: UnitOfWorkFactory[object],
        store_of: PeerStoreOf,
        clock: Clock,
        node_url: str | None,
        *,
        transport: OpenTransport,
        answers: Mapping[str, AnswerHandler],
        config: CourierConfig = CourierConfig(),
        resolve: Resolver = system_resolver,
    ) -> None:
        self._units = units
        self._store_of = store_of
        self._clock = clock
        self._node_url = node_url
        self._transport = transport
        self._answers = answers
        self._config = config
        self._resolve = resolve

    async def deliver_due(self) -> int:
        """One pass over the due messages; the number of attempts made. Safe to run in several
        processes at once (leases keep one worker per message)."""
        async with self._units(write=False) as unit:
            due = await self._store_of(unit).due(self._clock(), self._config.batch)
        if not due or self._node_url is None:
            return 0
        attempts = 0
        async with self._transport(self._config.timeout_s) as transport:
            for message in due:
                attempts += await self._deliver(transport, message)
        return attempts

    async def run(self, stop: asyncio.Event, poll_s: float) -> None:
        """Passes until ``stop`` is set, ``poll_s`` apart when there was nothing to do."""
        while not stop.is_set():
            try:
                busy = await self.deliver_due()
            except Exception:
                log.exception("peer delivery pass failed")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_s)

    async def _deliver(self, transport: PeerTransport, message: Outbound) -> int:
        token = uuid.uuid4()
        now = self._clock()
        async with self._units(write=True) as unit:
            taken = await self._store_of(unit).lease(
                message, token, now, now + timedelta(seconds=self._config.lease_s)
            )
            await unit.commit()
        if not taken:
            return 0
        try:
            answer = await self._exchange(transport, message)
        except (SendFailed, OSError, errors.LedgerError) as exc:
            await self._retry(message, token, f"{type(exc).__name__}: {exc}")
            return 1
        handle = self._answers[message.step]
        async with self._units(write=True) as unit:
            final = await handle(unit, message, answer)
            store = self._store_of(unit)
            if final:
                await store.done(message, token, self._clock())
            else:
                await store.retry(message, token, self._next_at(message), "not decided yet")
            await unit.commit()
        return 1

    async def ask(
        self,
        link_id: uuid.UUID,
        step: str,
        body: dict[str, Any],
        transfer_id: uuid.UUID,
        timeout_s: float | None = None,
    ) -> PeerMessage:
        """One query to the link's partner node now, outside the outbox (a query changes
        nothing; the caller asks again if it fails): its verified answer. ``timeout_s``: a
        shorter wait than the outbox's, for a query a page waits on."""
        async with self._transport(timeout_s or self._config.timeout_s) as transport:
            return await self._send(transport, link_id, step, body, transfer_id)

    async def _exchange(self, transport: PeerTransport, message: Outbound) -> PeerMessage:
        body = message.body
        step = message.step
        if message.expires_at is not None and self._clock() >= message.expires_at:
            step, body = STATE_STEP, {"expires_at": message.expires_at.isoformat()}
        return await self._send(
            transport, message.link_id, step, body, message.transfer_id, kid=signing_kid(message)
        )

    async def _send(
        self,
        transport: PeerTransport,
        link_id: uuid.UUID,
        step: str,
        body: dict[str, Any],
        transfer_id: uuid.UUID,
        *,
        kid: str | None = None,
    ) -> PeerMessage:
        now = self._clock()
        async with self._units(write=False) as unit:
            store = self._store_of(unit)
            keys = await store.keys()
            key = next((k for k in keys if k.kid == kid), None) or current(keys)
            peer = await store.peer(link_id, now)
        if peer is None or self._node_url is None:
            raise SendFailed("the link has no partner node (closed or removed?)")
        message = PeerMessage(link_id, transfer_id, step, now, self._node_url, peer.peer_url, body)
        target = await check(
            peer.peer_url.rstrip("/") + MESSAGES_PATH,
            self._config.allow,
            self._resolve,
            allow_setting=PEER_ALLOW_SETTING,
        )
        status, answer_text = await transport.send(target, sign(message, key))
        if status != 200:
            raise SendFailed(f"HTTP {status}: {answer_text[:200]}")
        answer, _ = await open_message(answer_text, _only(peer), self._clock())
        if answer.transfer_id != transfer_id or answer.step != step + ANSWER_SUFFIX:
            raise SendFailed("the answer names another transfer or step")
        return answer

    async def _retry(self, message: Outbound, token: uuid.UUID, error: str) -> None:
        log.info("peer message not delivered", transfer_id=str(message.transfer_id), error=error)
        async with self._units(write=True) as unit:
            await self._store_of(unit).retry(
                message, token, self._next_at(message), error[:_ERROR_MAX_CHARS]
            )
            await unit.commit()

    def _next_at(self, message: Outbound) -> datetime:
        delay = self._config.retry.delay_s(message.attempts + 1)
        return self._clock() + timedelta(seconds=delay)


def _only(peer: LinkPeer) -> Callable[[uuid.UUID], Awaitable[LinkPeer | None]]:
    async def peer_of(link_id: uuid.UUID) -> LinkPeer | None:
        return peer if link_id == peer.link_id else None

    return peer_of
