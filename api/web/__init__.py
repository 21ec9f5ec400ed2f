"""The member web page at ``/``: server-rendered HTML that works without JavaScript.

``web_app_config`` gives the composition root everything to wire: the router (with the CSRF
check of its forms), the template configuration, and the paths the JSON API's bearer
authentication must leave alone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import ExceptionHandlersMap

from api.web.i18n import N_
from api.web.routes import HANDLERS, page
from api.web.session import SignInRequired, provide_viewer
from api.web.settings import WebSettings
from api.web.throttle import Throttle
from ledger.kernel import errors

_HERE: Final = Path(__file__).parent
WEB_PATHS: Final = ["^/$", "^/(sign-in|sign-out|exchanges|community|web-static)(/|$)"]
"""Regular expressions of the page's paths: outside the JSON API's bearer authentication."""

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


async def _secure(response: Response[Any]) -> Response[Any]:
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _sign_in_first(_: Request[Any, Any, Any], __: SignInRequired) -> Response[Any]:
    return Redirect("/sign-in", status_code=303)


_MESSAGES: Final = {
    404: N_("This page does not exist, or it is not yours to see."),
    409: N_("This was already answered."),
}


def _error_page(request: Request[Any, Any, Any], status: int) -> Template:
    message = _MESSAGES.get(status, N_("Something in the request was not right. Please try again."))
    return page(request, "error.html", {"message": message, "status": status}, status)


def _on_ledger_error(request: Request[Any, Any, Any], error: errors.LedgerError) -> Template:
    if isinstance(error, errors.NotFound):
        return _error_page(request, 404)
    if isinstance(error, errors.EntryNotPending):
        return _error_page(request, 409)
    return _error_page(request, 400)


def _on_http(request: Request[Any, Any, Any], error: HTTPException) -> Template:
    return _error_page(request, error.status_code)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SignInRequired: _sign_in_first,
    errors.LedgerError: _on_ledger_error,
    HTTPException: _on_http,
}


@dataclass(frozen=True, slots=True)
class WebAppConfig:
    router: Router
    template_config: TemplateConfig[JinjaTemplateEngine]
    state: tuple[WebSettings, Throttle]
    """Kept on the application state as ``web``."""


def web_app_config(settings: WebSettings | None = None) -> WebAppConfig:
    settings = settings or WebSettings.from_env()
    static = create_static_files_router(
        path="/web-static",
        directories=[_HERE / "static"],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
    )
    # The CSRF check is the page's own middleware, not the application's: the JSON API, the
    # probes, the metrics and the federation's signed messages take no cookies (bearer tokens,
    # signatures), so they need none and pay for none (docs/security.md, "CSRF").
    csrf = CSRFConfig(
        secret=settings.csrf_secret or secrets.token_urlsafe(32),
        cookie_httponly=True,
    )
    router = Router(
        path="/",
        route_handlers=[*HANDLERS, static],
        dependencies={"viewer": Provide(provide_viewer)},
        exception_handlers=EXCEPTION_HANDLERS,
        after_request=_secure,
        include_in_schema=False,
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
    )
    templates = TemplateConfig(directory=_HERE / "templates", engine=JinjaTemplateEngine)
    return WebAppConfig(router, templates, (settings, Throttle(settings.sign_in_per_minute)))
