"""Guards get the registered route handler itself, in Litestar's order, and still refuse
(``api.http.common.guards_in_place``)."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from litestar import Controller, Litestar, get
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from api.http.common.guards_in_place import run_guards_in_place

Seen = list[tuple[str, BaseRouteHandler]]


def _app(seen: Seen) -> Litestar:
    def layer(name: str) -> Any:
        def guard(
            connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
        ) -> None:
            seen.append((name, handler))
            if connection.query_params.get("refuse") == name:
                raise PermissionDeniedException(f"refused by {name}")

        return guard

    class Things(Controller):
        path = "/things"
        guards = (layer("controller"),)

        @get("/{number:int}", guards=[layer("handler")], sync_to_thread=False)
        def thing(self, number: FromPath[int]) -> dict[str, int]:
            return {"number": number}

    @get("/alone", sync_to_thread=False)
    def alone() -> str:
        return "unguarded"

    return Litestar([Things, alone], guards=[layer("app")], openapi_config=None)


def _registered(
    app: Litestar, path: str, method: Literal["GET", "OPTIONS"] = "GET"
) -> BaseRouteHandler:
    [route] = [r for r in app.routes if isinstance(r, HTTPRoute) and r.path == path]
    handler, _ = route.route_handler_map[method]
    return handler


def test_every_guard_gets_the_registered_handler_in_order() -> None:
    seen: Seen = []
    app = run_guards_in_place(_app(seen))
    with TestClient(app) as client:
        assert client.get("/things/7").json() == {"number": 7}
        assert client.get("/things/8").json() == {"number": 8}
        assert client.options("/alone").status_code == 204
    handler = _registered(app, "/things/{number:int}")
    assert [name for name, _ in seen[:6]] == ["app", "controller", "handler"] * 2
    assert all(given is handler for _, given in seen[:6])
    # A declared handler is of a decorator's class; the OPTIONS one Litestar adds of its own.
    [(name, given)] = seen[6:]
    assert name == "app"
    assert given is _registered(app, "/alone", "OPTIONS")
    assert {type(handler).__name__, type(given).__name__} == {"get", "GuardedInPlace"}


@pytest.mark.parametrize("layer", ["app", "controller", "handler"])
def test_a_guard_still_refuses(layer: str) -> None:
    seen: Seen = []
    with TestClient(run_guards_in_place(_app(seen))) as client:
        answer = client.get("/things/7", params={"refuse": layer})
    assert answer.status_code == 403
    assert f"refused by {layer}" in answer.text
    assert seen[-1][0] == layer  # the guards after it did not run


def test_litestar_alone_hands_guards_a_copy() -> None:
    """Why the module exists: if Litestar stops copying, it can go."""
    seen: Seen = []
    app = _app(seen)
    with TestClient(app) as client:
        client.get("/things/7")
    handler = _registered(app, "/things/{number:int}")
    assert seen
    assert all(given is not handler for _, given in seen)
