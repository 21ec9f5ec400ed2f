"""The composition root: settings → engine → use cases → the Litestar application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware

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
from api.http.common.audit_context import AuditContextMiddleware
from api.http.common.auth import BearerAuthentication
from api.http.common.database_errors import classify
from api.http.common.errors import EXCEPTION_HANDLERS
from api.http.common.openapi import openapi_config
from api.http.common.openapi_document import (
    document_links,
    document_response_headers,
    forbid_unknown_request_fields,
)
from api.http.common.rate_limit import rate_limit_middleware
from api.http.common.request_log import RequestLogMiddleware, configure_logging, stamp_request_id
from api.http.common.strict_body import reject_lax_json
from api.http.dependencies import community_dependencies, service_dependencies
from api.jobs import running_in_background, service_jobs
from api.metrics import Metrics
from api.settings import Settings
from api.state import Services
from api.web import WEB_PATHS, web_app_config
from api.web.settings import WebSettings
from api.webhook_settings import WebhookSettings
from ledger.access.credentials import Access
from ledger.audit.trail import AuditTrail
from ledger.books.batches import EntryBatches
from ledger.books.group_commit import GroupCommit
from ledger.books.service import Ledger, utc_now
from ledger.economy.service import Economy
from ledger.events.delivery import Deliverer
from ledger.events.feed import EventFeed
from ledger.events.monitors import Monitors
from ledger.events.webhooks import Webhooks
from ledger.jobs.runner import JobRunner
from ledger.store import DatabaseTimeouts, SqlUnitOfWorkFactory, create_engine
from ledger.store.batches import SqlBatchStore
from ledger.store.economy import SqlEconomyStore
from ledger.store.events import SqlEventStore
from ledger.store.governance import sql_governance
from ledger.store.jobs import SqlJobClaims
from ledger.store.monitors import SqlMonitorStore
from ledger.store.webhooks import SqlWebhookStore
from reports.exports.journal import JournalExports
from reports.service import Reports

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
]


def create_app(
    settings: Settings | None = None,
    web_settings: WebSettings | None = None,
    webhook_settings: WebhookSettings | None = None,
) -> Litestar:
    """The application. The database must already be migrated (``commons-ledger serve`` does)."""
    settings = settings or Settings.from_env()
    webhook_settings = webhook_settings or WebhookSettings.from_env()
    web = web_app_config(web_settings)
    configure_logging()
    engine = create_engine(settings.database_url, timeouts=_timeouts(settings))
    uow = SqlUnitOfWorkFactory(engine)
    metrics = Metrics(engine)
    ledger = Ledger(uow, events=metrics)
    reports = Reports(uow)
    governance = sql_governance(uow, ledger)
    economy = Economy(uow, SqlEconomyStore)
    jobs = JobRunner(SqlJobClaims(engine), service_jobs(reports, governance, economy))
    batches = EntryBatches(uow, SqlBatchStore.of, events=metrics)
    services = Services(
        settings,
        engine,
        ledger,
        Access(uow, roles_of=governance.roles.current_role_names),
        JournalExports(uow),
        reports,
        metrics,
        AuditTrail(uow),
        jobs,
        EventFeed(uow, SqlEventStore),
        Webhooks(uow, SqlWebhookStore, utc_now, allow=webhook_settings.allow),
        Monitors(uow, SqlMonitorStore, utc_now),
        batches,
        governance,
        economy,
        GroupCommit(
            batches,
            ledger.post_entry,
            group_max=settings.group_commit_max,
            observe=metrics.grouped,
            transient=lambda failure: classify(failure) is not None,
        ),
    )
    deliverer = Deliverer(
        uow, SqlWebhookStore, SqlEventStore, utc_now, config=webhook_settings.delivery()
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        stop = asyncio.Event()
        delivering = None
        if webhook_settings.poll_ms:
            delivering = asyncio.create_task(
                deliverer.run(stop, webhook_settings.poll_ms / 1000), name="webhook-delivery"
            )
        try:
            async with running_in_background(jobs, settings.jobs_interval_s):
                yield
        finally:
            stop.set()
            if delivering is not None:
                # A delivery in flight ends within its timeout; its lease covers the rest.
                delivering.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivering
            await engine.dispose()

    community_router = Router(
        path="/communities/{slug:str}",
        dependencies=community_dependencies(services),
        route_handlers=_COMMUNITY_HANDLERS,
    )
    api = Router(
        path=API_PREFIX,
        route_handlers=[communities.create_community, community_router],
        security=[{"bearer": []}],
        before_request=reject_lax_json,
    )
    app = Litestar(
        route_handlers=[system.health, system.ready, system.metrics, api, web.router],
        middleware=[
            RequestLogMiddleware,  # also stamps the start the metrics measure from
            *rate_limit_middleware(settings),
            DefineMiddleware(
                BearerAuthentication,
                exclude=["^/schema", "^/health", "^/ready", "^/metrics", *WEB_PATHS],
            ),
            AuditContextMiddleware,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[stamp_request_id, complete_allow_header, metrics.before_send],
        lifespan=[lifespan],
        state=State({"services": services, "web": web.state}),
        dependencies=service_dependencies(services),
        template_config=web.template_config,
        csrf_config=web.csrf_config,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config(),
    )
    document_response_headers(app.openapi_schema)
    forbid_unknown_request_fields(app.openapi_schema)
    document_links(app.openapi_schema)
    return app


def _timeouts(settings: Settings) -> DatabaseTimeouts:
    return DatabaseTimeouts(
        statement_ms=settings.statement_timeout_ms,
        lock_ms=settings.lock_timeout_ms,
        connect_s=settings.connect_timeout_s,
        pool_s=settings.pool_timeout_s,
    )
