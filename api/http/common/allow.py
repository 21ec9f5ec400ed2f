"""The ``Allow`` header of automatic ``OPTIONS`` answers lists every method of the path.

Litestar's automatic ``OPTIONS`` handler keeps the methods of the route object it was made for,
which on a path served by several handlers (``GET`` and ``POST …/members``) is the first one
only, so clients were told a documented method does not exist. This hook rewrites the header
from the application's routing table.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Message, Scope

_ALLOW = b"allow"


_STATE_KEY = "allowed_methods_by_path"


def _methods_by_path(app: Litestar) -> dict[str, bytes]:
    known: dict[str, bytes] | None = app.state.get(_STATE_KEY)
    if known is None:
        known = app.state[_STATE_KEY] = {
            route.path_format: ", ".join(sorted(route.methods)).encode()
            for route in app.routes
            if getattr(route, "methods", None)
        }
    return known


def complete_allow_header(message: Message, scope: Scope) -> None:
    """For the ``before_send`` hook: ``OPTIONS`` responses name every method of their path."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    template = scope.get("path_template")
    methods = _methods_by_path(scope["app"]).get(template) if template else None
    if methods is None:
        return
    headers = [(name, value) for name, value in message.get("headers", []) if name != _ALLOW]
    message["headers"] = [*headers, (_ALLOW, methods)]
