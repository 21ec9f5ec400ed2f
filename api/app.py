"""The Litestar application over the services ``api.bootstrap`` builds: routes, middleware,
the background loops (jobs, webhook delivery) and the engine's disposal at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi.spec import OpenAPI

from api.bootstrap import bootstrap
from api.federation_settings import FederationSettings
from api.http import (
    accounts,
    barters,
    batches,
    books,
    chart,
    communities,
    entries,
    events,
    exchanges,
    federation,
    funds,
    governance,
    members,
    monitors,
    schedules,
    system,
    webhooks,
)
from api.http import audit as audit_routes
from api.http import exports as journal_exports
from api.http import jobs as job_routes
from api.http import reports as report_routes
from api.http.common.allow import complete_allow_header
from api.http.common.auth import BearerAuthentication
from api.http.common.errors import EXCEPTION_HANDLERS
from api.http.common.guards_in_place import run_guards_in_place
from api.http.common.location import document_locations
from api.http.common.openapi import openapi_config
from api.http.common.openapi_document import (
    METADATA,
    document_links,
    document_response_headers,
    forbid_unknown_request_fields,
)
from api.http.common.openapi_once import finish_once
from api.http.common.openapi_schemas import finish_schemas
from api.http.common.rate_limit import rate_limit_middleware
from api.http.common.request_log import (
    RequestLogMiddleware,
    before_send,
    configure_logging,
    stamp_request_id,
)
from api.http.common.strict_body import reject_lax_json
from api.http.dependencies import community_dependencies, service_dependencies
from api.http.peer import PEER_HANDLERS
from api.jobs import running_in_background
from api.settings import Settings
from api.state import Services
from api.web import WEB_PATHS, web_app_config
from api.web.settings import WebSettings
from api.webhook_settings import WebhookSettings

API_PREFIX = "/api/v1"

_COMMUNITY_HANDLERS = [
    *communities.COMMUNITY_HANDLERS,
    *members.COMMUNITY_HANDLERS,
    *books.COMMUNITY_HANDLERS,
    *accounts.COMMUNITY_HANDLERS,
    *entries.COMMUNITY_HANDLERS,
    *batches.COMMUNITY_HANDLERS,
    *exchanges.COMMUNITY_HANDLERS,
    *governance.COMMUNITY_HANDLERS,
    *journal_exports.COMMUNITY_HANDLERS,
    *report_routes.COMMUNITY_HANDLERS,
    *audit_routes.COMMUNITY_HANDLERS,
    *job_routes.COMMUNITY_HANDLERS,
    *events.COMMUNITY_HANDLERS,
    *webhooks.COMMUNITY_HANDLERS,
    *monitors.COMMUNITY_HANDLERS,
    *chart.COMMUNITY_HANDLERS,
    *funds.COMMUNITY_HANDLERS,
    *barters.COMMUNITY_HANDLERS,
    *schedules.COMMUNITY_HANDLERS,
    *federation.COMMUNITY_HANDLERS,
]


def create_app(
    settings: Settings | None = None,
    web_settings: WebSettings | None = None,
    webhook_settings: WebhookSettings | None = None,
    peer_settings: FederationSettings | None = None,
) -> Litestar:
    """The application. The database must already be migrated (``commons-ledger serve`` does)."""
    settings = settings or Settings.from_env()
    webhook_settings = webhook_settings or WebhookSettings.from_env()
    web = web_app_config(web_settings)
    configure_logging()
    services = bootstrap(settings, webhook_settings, peer_settings=peer_settings)
    before_auth, after_auth = rate_limit_middleware(settings)
    app = Litestar(
        route_handlers=[
            system.health,
            system.ready,
            system.metrics,
            *PEER_HANDLERS,
            _api_router(services),
            web.router,
        ],
        # Each layer costs every request (docs/performance.md, "The per-request layers"): the
        # request log's middleware also gives the id, the start and ``Location``; the
        # authentication also enters the audit context; one hook stamps every response.
        middleware=[
            RequestLogMiddleware,
            *before_auth,  # failed authentication, per client address
            DefineMiddleware(
                BearerAuthentication,
                exclude=["^/schema", "^/health", "^/ready", "^/metrics", *WEB_PATHS],
            ),
            *after_auth,  # per credential
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[
            before_send(stamp_request_id, complete_allow_header, services.metrics.observe_response)
        ],
        lifespan=[_lifespan(services, webhook_settings.poll_ms)],
        state=State({"services": services, "web": web.state}),
        dependencies=service_dependencies(services),
        template_config=web.template_config,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config(),
    )
    finish_once(app, _finish_document)
    return run_guards_in_place(app)


def _finish_document(document: OpenAPI) -> None:
    """What Litestar's route declarations cannot say, added to the generated document."""
    finish_schemas(document, METADATA)
    document_response_headers(document)
    forbid_unknown_request_fields(document)
    document_links(document)
    document_locations(document)


def _api_router(services: Services) -> Router:
    """``/api/v1``: community creation, and every route of one community under its slug."""
    community_router = Router(
        path="/communities/{slug:str}",
        dependencies=community_dependencies(services),
        route_handlers=_COMMUNITY_HANDLERS,
    )
    return Router(
        path=API_PREFIX,
        route_handlers=[communities.create_community, community_router],
        security=[{"bearer": []}],
        before_request=reject_lax_json,
    )


def _lifespan(
    services: Services, poll_ms: int
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The background loops while the app runs (webhook delivery every ``poll_ms``, 0: none;
    the jobs), and the engine disposed of at shutdown."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        stop = asyncio.Event()
        loops = []
        if poll_ms:
            loops.append(
                asyncio.create_task(
                    services.deliverer.run(stop, poll_ms / 1000), name="webhook-delivery"
                )
            )
        peer_poll_ms = services.peer_settings.poll_ms
        if peer_poll_ms and services.peer_settings.node_url:
            loops.append(
                asyncio.create_task(
                    services.courier.run(stop, peer_poll_ms / 1000), name="peer-delivery"
                )
            )
        checkpoint_s = services.peer_settings.checkpoint_s
        if checkpoint_s and services.peer_settings.node_url:
            loops.append(
                asyncio.create_task(
                    services.peer_reconciliation.run(stop, checkpoint_s), name="peer-checkpoints"
                )
            )
        try:
            async with running_in_background(services.jobs, services.settings.jobs_interval_s):
                yield
        finally:
            stop.set()
            for loop in loops:
                # A delivery in flight ends within its timeout; its lease covers the rest.
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
            await services.dispose()

    return lifespan
