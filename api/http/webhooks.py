"""Webhook subscriptions and their delivery log (treasurers and admins)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from api.http.common.auth import principal_of, requires
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.event_schemas import DeliveryOut, WebhookCreate, WebhookOut, WebhookStatus
from api.http.schemas import Page
from ledger.access.principals import Scope
from ledger.events.webhooks import Delivery, Webhook, Webhooks
from ledger.kernel.model import Community

_NOT_FOUND = problems(*COMMUNITY, 403, codes=["webhook_not_found"])
_CHANGE = problems(*COMMUNITY, 403, codes=["webhook_not_found", *IDEMPOTENT])


def _out(webhook: Webhook, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        url=webhook.url,
        types=list(webhook.types),
        description=webhook.description,
        status=WebhookStatus(webhook.status),
        created_at=webhook.created_at,
        attempts=webhook.attempts,
        next_attempt_at=webhook.next_attempt_at,
        secret=secret,
    )


def _delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        attempt=delivery.attempt,
        attempted_at=delivery.attempted_at,
        duration_ms=delivery.duration_ms,
        status_code=delivery.status_code,
        error=delivery.error,
        delivered=delivery.delivered,
    )


class WebhooksController(Controller):
    path = "/webhooks"
    tags = ("webhooks",)
    guards = (requires(Scope.TREASURER),)

    @post(
        summary="Subscribe a URL to the community's events (the secret is shown only here)",
        description=(
            "Events from now on are POSTed to `url` one at a time, in feed order, signed with "
            '`Commons-Ledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` '
            "under `secret`. The URL must be http(s) and reach a public address unless the "
            "operator's allow-list permits it (`url_not_allowed`)."
        ),
        responses=problems(
            *COMMUNITY, 403, 413, codes=["invalid_input", "url_not_allowed", *IDEMPOTENT]
        ),
    )
    async def create_webhook(
        self,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        webhooks: NamedDependency[Webhooks],
        data: JSONBody[WebhookCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> WebhookOut:
        key = key_of(principal_of(request), idempotency_key)
        created = await webhooks.create(community.id, data.url, data.types, data.description, key)
        return _out(created.webhook, created.secret)

    @get(summary="List webhook subscriptions", responses=problems(*COMMUNITY, 403))
    async def list_webhooks(
        self,
        community: NamedDependency[Community],
        webhooks: NamedDependency[Webhooks],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[WebhookOut]:
        found = await webhooks.list(
            community.id, after=decode_cursor(cursor, uuid.UUID), limit=limit + 1
        )
        return page_of(found, limit, _out, lambda webhook: webhook.id)

    @get(
        "/{webhook_id:uuid}",
        summary="Read a webhook subscription and its delivery state",
        responses=_NOT_FOUND,
    )
    async def read_webhook(
        self,
        community: NamedDependency[Community],
        webhooks: NamedDependency[Webhooks],
        webhook_id: FromPath[uuid.UUID],
    ) -> WebhookOut:
        return _out(await webhooks.get(community.id, webhook_id))

    @delete(
        "/{webhook_id:uuid}",
        summary="Delete a webhook subscription (its delivery log stays)",
        responses=_CHANGE,
    )
    async def delete_webhook(
        self,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        webhooks: NamedDependency[Webhooks],
        webhook_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> None:
        key = key_of(principal_of(request), idempotency_key)
        await webhooks.delete(community.id, webhook_id, key)

    @post(
        "/{webhook_id:uuid}/resume",
        summary="Resume a paused subscription: its next event is tried now",
        status_code=200,
        responses=_CHANGE,
    )
    async def resume_webhook(
        self,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        webhooks: NamedDependency[Webhooks],
        webhook_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> WebhookOut:
        key = key_of(principal_of(request), idempotency_key)
        return _out(await webhooks.resume(community.id, webhook_id, key))

    @get(
        "/{webhook_id:uuid}/deliveries",
        summary="The delivery log of a subscription, oldest attempt first",
        responses=_NOT_FOUND,
    )
    async def list_deliveries(
        self,
        community: NamedDependency[Community],
        webhooks: NamedDependency[Webhooks],
        webhook_id: FromPath[uuid.UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[DeliveryOut]:
        found = await webhooks.deliveries(
            community.id, webhook_id, after=decode_cursor(cursor, uuid.UUID), limit=limit + 1
        )
        return page_of(found, limit, _delivery_out, lambda delivery: delivery.id)


COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [WebhooksController]
"""Handlers under ``/communities/{slug}``."""
