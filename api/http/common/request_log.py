"""One structured log line per request, with a request id also returned as ``X-Request-ID``.

The line carries method, path, status, duration, request id and the principal's kind and
credential id — never bodies, query strings, cookies or the Authorization header.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

import msgspec
import structlog
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ledger.access.principals import Principal

REQUEST_ID_HEADER = b"x-request-id"
_STATE_KEY = "commons_ledger_request"
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")

log = structlog.get_logger("commons_ledger.http")


def _stderr_logger(*_: Any) -> structlog.PrintLogger:
    # sys.stderr looked up per logger, so redirections (and test capture) are honoured.
    return structlog.PrintLogger(sys.stderr)


def _json_line(event: dict[str, Any], **_: Any) -> str:
    """msgspec's JSON, quicker than the stdlib's (the whole line: ≈ 18 → 15 µs); values it has
    no JSON form for are written as their ``repr``, as structlog's own fallback does."""
    try:
        return msgspec.json.encode(event, enc_hook=repr).decode()
    except (TypeError, msgspec.EncodeError):  # e.g. a key that is not text
        return json.dumps(event, default=repr)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr, with the request's bound context merged in."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(_json_line),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        # Not cached: a reconfiguration (a new app, a test capturing stderr) takes effect at once.
        cache_logger_on_first_use=False,
    )


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.match(value):
            return value.decode()
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Outermost: gives the request its id and writes the log line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        scope.setdefault("state", {})[_STATE_KEY] = {
            "id": request_id,
            "status": 500,
            "started": started,
        }
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            # Refusals raised by middleware (no token, over the rate) are answered by Litestar's
            # outer exception handler after this line is written: log their status, not a 500.
            tracked = scope["state"][_STATE_KEY]
            tracked["status"] = exc.status_code if isinstance(exc, HTTPException) else 500
            raise
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=scope["state"][_STATE_KEY]["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                **_principal_fields(scope.get("user")),
            )
            structlog.contextvars.unbind_contextvars("request_id")


def started_at(scope: Scope) -> float | None:
    """When :class:`RequestLogMiddleware` took the request (``time.perf_counter``), if it did."""
    tracked = scope.get("state", {}).get(_STATE_KEY)
    return None if tracked is None else float(tracked["started"])


def request_id_of(scope: Scope) -> str | None:
    """The id :class:`RequestLogMiddleware` gave the request, if it passed through it."""
    tracked = scope.get("state", {}).get(_STATE_KEY)
    return None if tracked is None else str(tracked["id"])


async def stamp_request_id(message: Message, scope: Scope) -> None:
    """``before_send`` hook: every response, error responses included, names its request."""
    if message["type"] != "http.response.start":
        return
    tracked = scope.get("state", {}).get(_STATE_KEY)
    if tracked is None:
        # No route matched (a 404 or 405 from the router), so the middleware never ran: the
        # answer still names a request id, as the API document promises for every response.
        request_id = _request_id(scope)
    else:
        tracked["status"] = message["status"]
        request_id = tracked["id"]
    headers = list(message.get("headers", []))
    headers.append((REQUEST_ID_HEADER, request_id.encode()))
    message["headers"] = headers


def _principal_fields(user: Any) -> dict[str, str]:
    if not isinstance(user, Principal):
        return {}
    return {"principal": f"{user.kind}:{user.credential_id}"}
