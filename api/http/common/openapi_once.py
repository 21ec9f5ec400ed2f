"""The finished OpenAPI document, built once per process for the same routes.

Litestar generates an application's document from its routes, and the composition root then
finishes it (``api.http.common.openapi_document``, ``openapi_schemas``, ``location``). Together
that is about 0.4 s of CPU, paid at every ``create_app``: the test suite makes an application
per test, and ``serve --workers`` one per worker. The document is a function of the routes
alone (no setting changes a handler's declaration), so an application whose routes are those of
one already finished in this process is given that document instead of building its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import OpenAPI

RoutesKey = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]

_FINISHED: dict[RoutesKey, OpenAPI] = {}


def routes_key(app: Litestar) -> RoutesKey:
    """What the document is generated from: each route's path, methods and handlers."""
    return tuple(
        sorted(
            (route.path, tuple(sorted(route.methods)), tuple(sorted(route.handler_names)))
            for route in app.routes
        )
    )


def finish_once(app: Litestar, finish: Callable[[OpenAPI], None]) -> OpenAPI:
    """``app``'s document: generated and passed to ``finish`` the first time these routes are
    seen in this process, shared after. Nothing may change the document once finished."""
    key = routes_key(app)
    document = _FINISHED.get(key)
    if document is None:
        document = app.openapi_schema
        finish(document)
        _FINISHED[key] = document
    else:
        # Litestar generates the document on first use and keeps it in its OpenAPI plugin; no
        # public way hands it one already made. Setting that slot skips the generation.
        plugin: Any = app.plugins.get("OpenAPIPlugin")
        plugin._openapi = document
    return document
