"""``Location`` on every ``201 Created`` whose resource can be read: the URL of the new
member, account, entry, exchange… (RFC 9110 §15.3.2).

Where a created resource is read is derived once from the routes, so a new create route gets
its ``Location`` without code of its own: the ``GET`` route one segment below the ``POST``
(``POST …/members`` → ``GET …/members/{member_id}``, ``POST /communities`` → ``GET
/communities/{slug}``), or else the ``readX`` link the OpenAPI document gives the response
(``POST …/transfers`` → ``GET …/entries/{entry_id}``; ``openapi_document.LINKS``).
The id comes from the response body (``id``, or ``slug`` for a community).
"""

from __future__ import annotations

import json
import re
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Schema,
)
from litestar.types import HTTPResponseStartEvent, Message, Scope, Send

from api.http.common.openapi_document import LINKS

_PARAM = re.compile(r"{(\w+)}")
_STATE_KEY = "location_of_created"


def read_paths(operations: set[tuple[str, str]]) -> dict[str, str]:
    """For each ``POST`` of ``operations`` (method, path template) that creates something
    readable: the path template of the ``GET`` that reads it."""
    reads = {path for method, path in operations if method == "GET"}
    found = {}
    for method, post in operations:
        if method != "POST":
            continue
        below = [read for read in reads if re.fullmatch(re.escape(post) + r"/{\w+}", read)]
        linked = [
            target
            for name, (verb, target) in LINKS.get(("POST", post), ({}, {}))[0].items()
            if verb == "GET" and name.startswith("read")
        ]
        if below or linked:
            found[post] = sorted(below)[0] if below else linked[0]
    return found


def _targets(app: Litestar) -> dict[str, str]:
    found: dict[str, str] | None = app.state.get(_STATE_KEY)
    if found is None:
        operations = {
            (method, route.path_format)
            for route in app.routes
            for method in getattr(route, "methods", ())
        }
        found = app.state[_STATE_KEY] = read_paths(operations)
    return found


def location(template: str, path_params: dict[str, Any], body: object) -> str | None:
    """``template`` filled from the request's path parameters, its last parameter from the new
    resource's id (``…/entries/{entry_id}/reverse`` creates another entry than it names)."""
    if not isinstance(body, dict):
        return None
    *known, new = _PARAM.findall(template)
    values = {name: str(path_params[name]) for name in known if name in path_params}
    created = body.get("slug") if new == "slug" else body.get("id")
    if created is None or len(values) != len(known):
        return None
    return template.format(**values, **{new: created})


def location_sender(scope: Scope, send: Send) -> Send:
    """``send`` for a ``POST`` that creates something readable: it holds the start of a ``201``
    answer until its (small, JSON) body is known, then sends it with ``Location``. Any other
    request keeps ``send`` as it is (called by the request log's middleware, so that this costs
    no layer of its own)."""
    if scope.get("method") != "POST":
        return send
    template = _targets(scope["app"]).get(scope.get("path_template", ""))
    if template is None:
        return send
    held: list[HTTPResponseStartEvent] = []

    async def send_with_location(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 201:
            held.append(message)
            return
        if held and message["type"] == "http.response.body":
            start = held.pop()
            if not message.get("more_body", False):
                try:
                    body = json.loads(message.get("body", b"") or b"null")
                except ValueError:
                    body = None
                url = location(template, scope.get("path_params", {}), body)
                if url is not None:
                    headers = [*start.get("headers", []), (b"location", url.encode())]
                    start["headers"] = headers
            await send(start)
        await send(message)

    return send_with_location


def document_locations(document: OpenAPI) -> None:
    """Declares ``Location`` on the ``201`` of every create that sends it; the others' ``201``
    no longer promise a URL."""
    paths = document.paths or {}
    operations = {
        (method.upper(), path)
        for path, item in paths.items()
        for method in ("get", "post")
        if getattr(item, method) is not None
    }
    targets = read_paths(operations)
    for path, item in paths.items():
        operation = item.post
        created = (operation.responses or {}).get("201") if operation else None
        if not isinstance(created, OpenAPIResponse):
            continue
        if path not in targets:
            created.description = "Created"
            continue
        created.description = f"Created: `Location` is its URL (`GET {targets[path]}`)"
        created.headers = {
            **(created.headers or {}),
            "Location": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.URI_REFERENCE),
                description="The path of the created resource",
                required=True,
            ),
        }
