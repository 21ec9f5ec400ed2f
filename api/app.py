"""The composition root: settings → engine → use cases → the Litestar application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware

from api.allow import complete_allow_header
from api.auth import BearerAuthentication, provide_community
from api.errors import EXCEPTION_HANDLERS
from api.openapi import (
    document_links,
    document_response_headers,
    forbid_unknown_request_fields,
    openapi_config,
)
from api.rate_limit import rate_limit_middleware
from api.request_log import RequestLogMiddleware, configure_logging, stamp_request_id
from api.routes import accounts, books, communities, entries, exchanges, members, system
from api.routes import exports as journal_exports
from api.routes import reports as report_routes
from api.settings import Settings
from api.state import Services
from api.strict_body import reject_lax_json
from ledger.credentials import Access
from ledger.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
from reports.exports.journal import JournalExports
from reports.service import Reports

API_PREFIX = "/api/v1"

_COMMUNITY_HANDLERS = [
    *communities.COMMUNITY_HANDLERS,
    *members.COMMUNITY_HANDLERS,
    *books.COMMUNITY_HANDLERS,
    *accounts.COMMUNITY_HANDLERS,
    *entries.COMMUNITY_HANDLERS,
    *exchanges.COMMUNITY_HANDLERS,
    *journal_exports.COMMUNITY_HANDLERS,
    *report_routes.COMMUNITY_HANDLERS,
]


def create_app(settings: Settings | None = None) -> Litestar:
    """The application. The database must already be migrated (``commons-ledger serve`` does)."""
    settings = settings or Settings.from_env()
    configure_logging()
    engine = create_engine(settings.database_url)
    uow = SqlUnitOfWorkFactory(engine)
    services = Services(
        settings, engine, Ledger(uow), Access(uow), JournalExports(uow), Reports(uow)
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    community_router = Router(
        path="/communities/{slug:str}",
        dependencies={"community": Provide(provide_community)},
        route_handlers=_COMMUNITY_HANDLERS,
    )
    api = Router(
        path=API_PREFIX,
        route_handlers=[communities.create_community, community_router],
        security=[{"bearer": []}],
        before_request=reject_lax_json,
    )
    app = Litestar(
        route_handlers=[system.health, system.ready, api],
        middleware=[
            RequestLogMiddleware,
            *rate_limit_middleware(settings),
            DefineMiddleware(BearerAuthentication, exclude=["^/schema", "^/health", "^/ready"]),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[stamp_request_id, complete_allow_header],
        lifespan=[lifespan],
        state=State({"services": services}),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config(),
    )
    document_response_headers(app.openapi_schema)
    forbid_unknown_request_fields(app.openapi_schema)
    document_links(app.openapi_schema)
    return app
