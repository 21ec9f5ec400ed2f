"""Guards run on the registered route handler itself, not on a copy made for each call.

Litestar's ``authorize_connection`` hands every guard ``copy(route_handler)``, so that a guard
cannot change the handler for the requests after it. Ours only read the connection (they take
the handler as ``_``), and the copies — shallow copies of an object of some sixty attributes —
were 5 % of the server's samples under balance reads (``docs/performance.md``, "Connections
kept, the collector's pauses, guards in place"). Every HTTP handler of the app is given an
``authorize_connection`` that runs the same guards in the same order on the handler itself. A
guard must therefore never change the handler it is given.
"""

from __future__ import annotations

from types import MethodType
from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers.http_handlers.base import HTTPRouteHandler
from litestar.routes import HTTPRoute


async def _authorize_in_place(
    handler: HTTPRouteHandler, connection: ASGIConnection[Any, Any, Any, Any]
) -> None:
    for guard in handler.resolve_guards():
        await guard(connection, handler)  # type: ignore[misc]  # each made async by Litestar


class GuardedInPlace(HTTPRouteHandler):
    """Litestar's registered handler, its guards given the handler itself."""

    __slots__ = ()  # the same layout as Litestar's handler, so an instance can become one
    authorize_connection = _authorize_in_place


def _in_place(handler: HTTPRouteHandler) -> None:
    if type(handler) is HTTPRouteHandler:
        handler.__class__ = GuardedInPlace
    elif hasattr(handler, "__dict__"):
        # An instance of a decorator's class (``get``, ``post`` …), which Litestar 2 deprecates
        # subclassing: the method is set on the instance instead.
        handler.authorize_connection = MethodType(_authorize_in_place, handler)  # type: ignore[method-assign]


def run_guards_in_place(app: Litestar) -> Litestar:
    """``app`` with every HTTP handler's guards called on the handler itself (any other kind of
    handler keeps Litestar's copy)."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler, _ in route.route_handler_map.values():
                _in_place(handler)
    return app
