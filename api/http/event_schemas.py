"""Wire types of the event feed, webhooks and balance monitors."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from api.http.schemas import Request
from ledger.audit.outbox import Event, cursor

EventType = Annotated[str, msgspec.Meta(examples=["entry.posted"], max_length=60)]


class WebhookStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    """Delivery stopped after too many failed attempts; resume it to retry."""


class MonitorDirection(enum.StrEnum):
    BELOW = "below"
    ABOVE = "above"


class BalanceMeasure(enum.StrEnum):
    POSTED = "posted"
    """The posted balance."""
    AVAILABLE = "available"
    """Counting pending entries, as limits do."""


class ResourceRef(msgspec.Struct, frozen=True):
    kind: Annotated[str, msgspec.Meta(examples=["entry"])]
    id: str


class EventOut(msgspec.Struct, frozen=True):
    """Something that happened in the ledger. ``id`` is the same on every delivery of the event;
    ``position`` is the cursor of the feed right after it."""

    id: uuid.UUID
    type: EventType
    community: str
    occurred_at: datetime
    resource: ResourceRef
    data: dict[str, Any]
    position: str

    @staticmethod
    def of(event: Event, community_slug: str) -> EventOut:
        return EventOut(
            id=event.id,
            type=event.type,
            community=community_slug,
            occurred_at=event.occurred_at,
            resource=ResourceRef(event.resource_kind, event.resource_id),
            data=event.data,
            position=cursor(event.position),
        )


class EventPage(msgspec.Struct, frozen=True):
    """A page of the feed; poll for newer events with ``after`` = the last event's
    ``position`` (``next_cursor`` is null once the feed has nothing more for now)."""

    items: list[EventOut]
    next_cursor: str | None


Url = Annotated[
    str,
    msgspec.Meta(
        min_length=8,
        max_length=2000,
        description="an http or https URL",
        examples=["http://localhost:9000/ledger-events"],
    ),
]
Description = Annotated[str, msgspec.Meta(max_length=200, examples=["the farm shop till"])]


class WebhookCreate(Request, frozen=True):
    """Where to deliver which events (``types`` empty or missing: all of them)."""

    url: Url
    types: list[EventType] = msgspec.field(default_factory=list)
    description: Description = ""


class WebhookOut(msgspec.Struct, frozen=True, omit_defaults=True):
    """A subscription. ``secret`` (the HMAC-SHA256 key of the signatures) is shown only in the
    answer that created it."""

    id: uuid.UUID
    url: str
    types: list[str]
    description: str
    status: WebhookStatus
    created_at: datetime
    attempts: int
    """Failed attempts at the next event so far."""
    next_attempt_at: datetime
    secret: str | None = None


class DeliveryOut(msgspec.Struct, frozen=True):
    """One attempt to deliver an event."""

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    attempt: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    delivered: bool


class MonitorCreate(Request, frozen=True):
    """Emit ``balance.threshold_crossed`` when the account's balance (in its normal direction,
    in the commodity's smallest unit) moves below or above ``threshold``."""

    account_id: uuid.UUID
    direction: MonitorDirection
    threshold: Annotated[int, msgspec.Meta(ge=-(2**62), le=2**62, examples=[50000])]
    measure: BalanceMeasure = BalanceMeasure.POSTED
    description: Description = ""


class MonitorOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    account_id: uuid.UUID
    direction: MonitorDirection
    threshold: int
    measure: BalanceMeasure
    description: str
    crossed: bool
    """Whether the balance was beyond the threshold after the last write."""
    created_at: datetime
