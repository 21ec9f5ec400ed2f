"""Webhook subscriptions: treasurers register where the community's events go.

Guarantees (each has a test in ``tests/events/test_webhooks.py``):

- A delivery is an HTTP POST of one event (the feed's JSON), signed: the header
  ``Commons-Ledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` under the
  subscription's secret, which is shown once, when the subscription is created.
- At least once, in feed order per subscription: the next event goes out only after the one
  before was acknowledged (any 2xx). A failure or timeout is retried after
  ``retry_base * 2^(attempt-1)`` (at most ``retry_cap``), of which a random half is jitter;
  every attempt is kept in the delivery log. After ``max_attempts`` failures in a row the
  subscription is paused on that event — nothing is skipped — until a treasurer resumes it.
- The delivery state (the last event acknowledged, failures so far, the next attempt's time)
  lives in the database and advances in the transaction that logs the attempt, so a process
  killed mid-delivery loses nothing: the event goes out again after the restart.
- Target URLs are checked at registration and before every attempt (``ledger.events.url_guard``).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final, NamedTuple, Protocol

from ledger.audit import chain as audit
from ledger.books.envelope import WriteEnvelope
from ledger.books.ports import UnitOfWork as BooksUnitOfWork
from ledger.books.ports import UnitOfWorkFactory as BooksUnitOfWorkFactory
from ledger.events.feed import check_types
from ledger.events.url_guard import AllowList, Resolver, check, system_resolver
from ledger.kernel import errors
from ledger.kernel.model import IdempotencyKey, new_id
from ledger.kernel.uow import UnitOfWork

SIGNATURE_HEADER: Final = "Commons-Ledger-Signature"
EVENT_ID_HEADER: Final = "Commons-Ledger-Event-Id"
EVENT_TYPE_HEADER: Final = "Commons-Ledger-Event-Type"
ATTEMPT_HEADER: Final = "Commons-Ledger-Delivery-Attempt"
DESCRIPTION_MAX_CHARS: Final = 200


class WebhookNotFound(errors.NotFound):
    """No subscription with that id in the community."""

    code = "webhook_not_found"


# A write under an idempotency key stores a rejection by code; its replay rebuilds the error from
# the core's table, so the code joins it.
errors.ERROR_TYPES[WebhookNotFound.code] = WebhookNotFound


@dataclass(frozen=True, slots=True)
class Webhook:
    community_id: uuid.UUID
    id: uuid.UUID
    url: str
    types: tuple[str, ...]
    """Event types delivered; empty: every type."""
    description: str
    created_at: datetime
    status: str
    """``active`` or ``paused`` (after too many failures in a row)."""
    after: tuple[int, int]
    """The feed position of the last event acknowledged (or, at creation, the newest event)."""
    attempts: int
    """Failed attempts at the next event so far."""
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    community_id: uuid.UUID
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    attempt: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    delivered: bool


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retry_base_s: float = 5.0
    retry_cap_s: float = 3600.0
    max_attempts: int = 10
    """Failures in a row after which the subscription pauses."""
    rng: Callable[[], float] = field(default=random.random, compare=False)

    def delay_s(self, attempts: int) -> float:
        """Wait after the ``attempts``-th failure in a row: exponential, half of it jitter."""
        full = min(self.retry_cap_s, self.retry_base_s * 2.0 ** (attempts - 1))
        return full / 2 + self.rng() * full / 2


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value: ``t=<timestamp>,v1=<HMAC-SHA256(secret, "<timestamp>." + body)>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now_s: float, tolerance_s: int = 300) -> bool:
    """What a receiver does: the signature matches and its timestamp is recent (no replay)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if not parts.get("t", "").isdigit():
        return False
    timestamp = int(parts["t"])
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now_s - timestamp) <= tolerance_s and hmac.compare_digest(
        expected, parts.get("v1", "")
    )


class WebhookStore(Protocol):
    async def last_position(self, community_id: uuid.UUID) -> tuple[int, int]: ...
    async def insert(self, webhook: Webhook, secret: str) -> None: ...
    async def get(self, community_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None: ...
    async def list(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Webhook]: ...
    async def delete(self, community_id: uuid.UUID, webhook_id: uuid.UUID) -> None: ...
    async def resume(
        self, community_id: uuid.UUID, webhook_id: uuid.UUID, now: datetime
    ) -> None: ...
    async def deliveries(
        self,
        community_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Delivery]: ...


class AuditLog(Protocol):
    """What the subscription use cases write through the books' repository."""

    async def append_audit(self, community_id: uuid.UUID, event: audit.AuditEvent) -> None: ...


StoreOf = Callable[[UnitOfWork[AuditLog]], WebhookStore]
"""Builds the webhook store on a unit of work, in its transaction
(``ledger.store.webhooks.SqlWebhookStore.of``)."""


class CreatedWebhook(NamedTuple):
    """A new subscription and its signing secret."""

    webhook: Webhook
    secret: str

    @property
    def id(self) -> uuid.UUID:
        """The webhook's (what the audit record names)."""
        return self.webhook.id


class Webhooks:
    """The subscription use cases; delivery is ``ledger.events.delivery``'s."""

    def __init__(
        self,
        units: BooksUnitOfWorkFactory,
        store: StoreOf,
        clock: Callable[[], datetime],
        allow: AllowList = AllowList(),  # noqa: B008 - immutable
        resolve: Resolver = system_resolver,
    ) -> None:
        self._units = units
        self._store = store
        self._clock = clock
        self._allow = allow
        self._resolve = resolve
        # Subscribing, deleting and resuming are writes like any other: one envelope, the key
        # claimed first.
        self._envelope = WriteEnvelope(units, clock)

    async def create(
        self,
        community_id: uuid.UUID,
        url: str,
        types: Sequence[str] = (),
        description: str = "",
        key: IdempotencyKey | None = None,
    ) -> CreatedWebhook:
        """A subscription to the events from now on, and its secret (shown only in this answer,
        and in its replay under ``key``: the secret is stored to sign deliveries anyway)."""
        check_types(types)
        if len(description) > DESCRIPTION_MAX_CHARS:
            raise errors.InvalidInput(f"description must be at most {DESCRIPTION_MAX_CHARS} chars")
        await check(url, self._allow, self._resolve)
        request = {"url": url, "types": list(types), "description": description}

        async def work(unit: BooksUnitOfWork) -> CreatedWebhook:
            store = self._store(unit)
            now = self._clock()
            webhook = Webhook(
                community_id=community_id,
                id=new_id(),
                url=url,
                types=tuple(dict.fromkeys(types)),
                description=description,
                created_at=now,
                status="active",
                # Events from now on: the feed holds the past for whoever wants it.
                after=await store.last_position(community_id),
                attempts=0,
                next_attempt_at=now,
            )
            secret = "whsec_" + secrets.token_urlsafe(32)
            await store.insert(webhook, secret)
            return CreatedWebhook(webhook, secret)

        return await self._envelope.write(
            community_id, "create_webhook", request, key, work=work, result_type=CreatedWebhook
        )

    async def get(self, community_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook:
        async with self._units(write=False) as unit:
            found = await self._store(unit).get(community_id, webhook_id)
        if found is None:
            raise WebhookNotFound(f"webhook {webhook_id} does not exist")
        return found

    async def list(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 50
    ) -> Sequence[Webhook]:
        async with self._units(write=False) as unit:
            return await self._store(unit).list(community_id, after=after, limit=limit)

    async def delete(
        self, community_id: uuid.UUID, webhook_id: uuid.UUID, key: IdempotencyKey | None = None
    ) -> Webhook:
        """Stops deliveries for good; the delivery log stays readable."""
        return await self._change(community_id, webhook_id, "delete_webhook", key)

    async def resume(
        self, community_id: uuid.UUID, webhook_id: uuid.UUID, key: IdempotencyKey | None = None
    ) -> Webhook:
        """A paused (or waiting) subscription tries its next event now, with a fresh count."""
        return await self._change(community_id, webhook_id, "resume_webhook", key)

    async def deliveries(
        self,
        community_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        after: uuid.UUID | None = None,
        limit: int = 50,
    ) -> Sequence[Delivery]:
        """The delivery log, oldest attempt first."""
        await self.get(community_id, webhook_id)
        async with self._units(write=False) as unit:
            return await self._store(unit).deliveries(
                community_id, webhook_id, after=after, limit=limit
            )

    async def _change(
        self, community_id: uuid.UUID, webhook_id: uuid.UUID, op: str, key: IdempotencyKey | None
    ) -> Webhook:
        """Deletes or resumes the webhook under ``key``: the webhook as it is afterwards (as it
        was, for a deletion)."""

        async def work(unit: BooksUnitOfWork) -> Webhook:
            store = self._store(unit)
            webhook = await store.get(community_id, webhook_id)
            if webhook is None:
                raise WebhookNotFound(f"webhook {webhook_id} does not exist")
            if op == "delete_webhook":
                await store.delete(community_id, webhook_id)
                return webhook
            await store.resume(community_id, webhook_id, self._clock())
            resumed = await store.get(community_id, webhook_id)
            assert resumed is not None
            return resumed

        request = {"webhook_id": webhook_id}
        return await self._envelope.write(
            community_id, op, request, key, work=work, result_type=Webhook
        )


def next_state(
    webhook: Webhook, delivered: bool, position: tuple[int, int], now: datetime, policy: RetryPolicy
) -> Webhook:
    """The subscription after an attempt at the event at ``position``."""
    if delivered:
        return replace(webhook, after=position, attempts=0, next_attempt_at=now)
    attempts = webhook.attempts + 1
    return replace(
        webhook,
        attempts=attempts,
        status="paused" if attempts >= policy.max_attempts else webhook.status,
        next_attempt_at=now + timedelta(seconds=policy.delay_s(attempts)),
    )
