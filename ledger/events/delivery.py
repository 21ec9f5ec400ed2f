"""Delivering webhook events: one pass over the due subscriptions, or a loop of passes.

Each subscription is leased to one worker at a time (a lease token and an expiry in its row), so
the app's loop, ``commons-ledger deliver-webhooks`` and further processes can run side by side
without sending an event twice at once or out of order. A worker that dies leaves a lease that
simply runs out; its event is then sent again (at least once). Each attempt is logged and the
subscription's state advanced in one transaction; the HTTP request runs outside any
transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol

import msgspec
import structlog

from ledger.audit import outbox
from ledger.events.feed import ReaderOf
from ledger.events.url_guard import (
    AllowList,
    Resolver,
    Target,
    UrlNotAllowed,
    check,
    system_resolver,
)
from ledger.events.webhooks import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    Delivery,
    RetryPolicy,
    Webhook,
    next_state,
    signature,
)
from ledger.kernel.model import new_id
from ledger.kernel.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger("commons_ledger.webhooks")
_ERROR_MAX_CHARS: Final = 300
_encoder = msgspec.json.Encoder()


class DeliveryStore(Protocol):
    async def due(self, now: datetime, limit: int) -> Sequence[tuple[Webhook, str, str]]: ...
    async def lease(
        self, webhook: Webhook, token: uuid.UUID, now: datetime, until: datetime
    ) -> Webhook | None: ...
    async def record(
        self, state: Webhook, delivery: Delivery, token: uuid.UUID, until: datetime
    ) -> bool: ...
    async def release(self, webhook: Webhook, token: uuid.UUID) -> None: ...


DeliveryStoreOf = Callable[[UnitOfWork[object]], DeliveryStore]
"""Builds the delivery state's store on a unit of work, in its transaction
(``ledger.store.webhooks.SqlWebhookStore.of``). Delivery reads no repository: ``object``."""


class PostFailed(Exception):
    """The receiver could not be reached or did not answer (the message says how)."""


class Poster(Protocol):
    """Sends one webhook request; answers the receiver's HTTP status."""

    async def post(self, target: Target, body: bytes, headers: dict[str, str]) -> int:
        """POSTs ``body`` to ``target``'s checked address; raises :class:`PostFailed`."""
        ...


OpenPoster = Callable[[float], AbstractAsyncContextManager[Poster]]
"""Opens a poster for one delivery pass, given its timeout in seconds
(``ledger.events.http_poster.http_poster``)."""


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 10.0
    """Longest wait for a receiver's answer (connect, send and read each)."""
    allow: AllowList = field(default_factory=AllowList)
    events_per_pass: int = 100
    """Most events one subscription sends in one pass, so that others get their turn."""
    subscriptions_per_pass: int = 100

    @property
    def lease_s(self) -> float:
        """How long a worker holds a subscription per attempt: longer than any attempt."""
        return 4 * self.timeout_s + 5


@dataclass(frozen=True, slots=True)
class _Outcome:
    delivered: bool
    status_code: int | None
    error: str | None
    duration_ms: int


class Deliverer:
    def __init__(
        self,
        units: UnitOfWorkFactory[object],
        store: DeliveryStoreOf,
        reader: ReaderOf,
        clock: Callable[[], datetime],
        *,
        poster: OpenPoster,
        config: DeliveryConfig = DeliveryConfig(),
        resolve: Resolver = system_resolver,
    ) -> None:
        self._units = units
        self._store = store
        self._reader = reader
        self._clock = clock
        self._config = config
        self._resolve = resolve
        self._open_poster = poster

    async def deliver_due(self) -> int:
        """One pass: every due subscription sends what it can. Returns the attempts made.
        Safe to call repeatedly and concurrently (leases keep one worker per subscription)."""
        async with self._units(write=False) as unit:
            due = await self._store(unit).due(self._clock(), self._config.subscriptions_per_pass)
        if not due:
            # A client loads the CA bundle (tens of ms of CPU): not for a pass with nothing due.
            return 0
        attempts = 0
        async with self._open_poster(self._config.timeout_s) as client:
            for webhook, secret, slug in due:
                attempts += await self._deliver(client, webhook, secret, slug)
        return attempts

    async def run(self, stop: asyncio.Event, poll_s: float) -> None:
        """Passes until ``stop`` is set, ``poll_s`` apart when there was nothing to do."""
        while not stop.is_set():
            try:
                busy = await self.deliver_due()
            except Exception:
                # The database may be away for a moment; the next pass tries again.
                log.exception("webhook delivery pass failed")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_s)

    async def _next_event(self, state: Webhook) -> outbox.Event | None:
        async with self._units(write=False) as unit:
            found = await self._reader(unit).list_events(
                state.community_id, after=state.after, types=state.types or None, limit=1
            )
        return found[0] if found else None

    async def _deliver(self, client: Poster, webhook: Webhook, secret: str, slug: str) -> int:
        if await self._next_event(webhook) is None:
            return 0
        token = uuid.uuid4()
        now = self._clock()
        async with self._units(write=True) as unit:
            state = await self._store(unit).lease(
                webhook, token, now, now + timedelta(seconds=self._config.lease_s)
            )
            await unit.commit()
        if state is None:
            return 0
        attempts = 0
        try:
            for _ in range(self._config.events_per_pass):
                event = await self._next_event(state)
                if event is None:
                    break
                outcome = await self._post(client, state, secret, slug, event)
                attempts += 1
                recorded = await self._record(state, event, outcome, token)
                if recorded is None:
                    break
                state = recorded
                if not outcome.delivered or state.status != "active":
                    break
        finally:
            async with self._units(write=True) as unit:
                await self._store(unit).release(state, token)
                await unit.commit()
        return attempts

    async def _record(
        self, state: Webhook, event: outbox.Event, outcome: _Outcome, token: uuid.UUID
    ) -> Webhook | None:
        now = self._clock()
        new = next_state(state, outcome.delivered, event.position, now, self._config.policy)
        delivery = Delivery(
            community_id=state.community_id,
            id=new_id(),
            webhook_id=state.id,
            event_id=event.id,
            event_type=event.type,
            attempt=state.attempts + 1,
            attempted_at=now,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
            delivered=outcome.delivered,
        )
        until = now + timedelta(seconds=self._config.lease_s)
        async with self._units(write=True) as unit:
            kept = await self._store(unit).record(new, delivery, token, until)
            await unit.commit()
        if new.status == "paused":
            log.warning("webhook paused", webhook_id=str(state.id), attempts=new.attempts)
        return new if kept else None

    async def _post(
        self,
        client: Poster,
        state: Webhook,
        secret: str,
        slug: str,
        event: outbox.Event,
    ) -> _Outcome:
        started = time.monotonic()
        body = _encoder.encode(outbox.body(event, slug))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "commons-ledger-webhooks/1",
            SIGNATURE_HEADER: signature(secret, int(self._clock().timestamp()), body),
            EVENT_ID_HEADER: str(event.id),
            EVENT_TYPE_HEADER: event.type,
            ATTEMPT_HEADER: str(state.attempts + 1),
        }
        try:
            # Checked again now, and the request goes to the address checked (DNS rebinding).
            target = await check(state.url, self._config.allow, self._resolve)
            status_code = await client.post(target, body, headers)
        except PostFailed as exc:
            return _Outcome(False, None, str(exc)[:_ERROR_MAX_CHARS], _ms_since(started))
        except (UrlNotAllowed, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS]
            return _Outcome(False, None, error, _ms_since(started))
        except Exception as exc:
            # Anything else the client raised on this subscription's URL is still its failed
            # attempt only: the pass goes on to the next subscription (issue 18, M4).
            log.exception("webhook attempt crashed", webhook_id=str(state.id))
            error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS]
            return _Outcome(False, None, error, _ms_since(started))
        delivered = 200 <= status_code < 300
        refused = None if delivered else f"HTTP {status_code}"
        return _Outcome(delivered, status_code, refused, _ms_since(started))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
