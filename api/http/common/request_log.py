"""One structured log line per request, with a request id also returned as ``X-Request-ID``.

The line carries method, path, status, duration, request id and the principal's kind and
credential id — never bodies, query strings, cookies or the Authorization header. A request
cancelled before it was answered (the server stopping, the client gone) is logged with 499.

Every layer around a request costs every request (docs/performance.md, "The per-request
layers"), so the outermost middleware does all the bookkeeping that needs no principal: the
request id, the start the metrics measure from, the ``Location`` of a ``201`` and the log line;
and one ``before_send`` hook (:func:`before_send`) runs the plain functions that stamp every
response, those the router or Litestar's exception handler send included.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, BeforeMessageSendHookHandler, Message, Receive, Scope, Send

from api.http.common.location import location_sender
from ledger.access.principals import Principal

REQUEST_ID_HEADER = b"x-request-id"
CANCELLED_STATUS = 499
"""The status a request's log line says when it was cancelled before any answer began (nginx's
"client closed request"); no client is ever answered it."""
_STATE_KEY = "commons_ledger_request"
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")

ResponseHook = Callable[[Message, Scope], None]
"""A plain function :func:`before_send` runs on every message a response sends."""


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


class _Lines:
    """Whether the request lines are written (the configured level lets ``info`` through)."""

    enabled = True


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
    _Lines.enabled = level <= logging.INFO


class _Ids:
    """Request ids: 16 random hex digits per process, then a 16-digit counter — 32 characters
    as a UUID's hex, unique across processes and restarts, at a fraction of ``uuid4``'s cost
    (no system call, no ``UUID`` object per request)."""

    prefix = secrets.token_hex(8)
    counter: Iterator[int] = itertools.count()

    @classmethod
    def reseed(cls) -> None:
        # A forked child must not repeat its parent's ids.
        cls.prefix, cls.counter = secrets.token_hex(8), itertools.count()


os.register_at_fork(after_in_child=_Ids.reseed)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.match(value):
            return value.decode()
    return f"{_Ids.prefix}{next(_Ids.counter):016x}"


class RequestLogMiddleware:
    """Outermost: gives the request its id and start, adds ``Location`` to a ``201`` of a
    create, and writes the log line when the request ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        tracked: dict[str, Any] = {"id": request_id, "status": None, "started": started}
        scope.setdefault("state", {})[_STATE_KEY] = tracked
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, location_sender(scope, send))
        except Exception as exc:
            # Refusals raised by middleware (no token, over the rate) are answered by Litestar's
            # outer exception handler after this line is written: log their status, not a 500.
            tracked["status"] = exc.status_code if isinstance(exc, HTTPException) else 500
            raise
        except asyncio.CancelledError:
            # Cancelled before an answer began (the server stopping under it, the client gone):
            # nothing failed and no one was answered, so not a 500 but nginx's 499.
            if tracked["status"] is None:
                tracked["status"] = CANCELLED_STATUS
            raise
        finally:
            if tracked["status"] is None:
                tracked["status"] = 500
            if _Lines.enabled:
                _write_line(scope, tracked, started)
            structlog.contextvars.reset_contextvars(**tokens)


def _write_line(scope: Scope, tracked: dict[str, Any], started: float) -> None:
    """The line as structlog's processor chain wrote it (same fields, same order), encoded
    directly: the chain (a logger built per call, five processors) cost more than the line."""
    line: dict[str, Any] = {
        "method": scope.get("method"),
        "path": scope.get("path"),
        "status": tracked["status"],
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    user = scope.get("user")
    if isinstance(user, Principal):
        line["principal"] = f"{user.kind}:{user.credential_id}"
    line["event"] = "request"
    line["request_id"] = tracked["id"]
    line["level"] = "info"
    line["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    sys.stderr.write(_json_line(line) + "\n")


def started_at(scope: Scope) -> float | None:
    """When :class:`RequestLogMiddleware` took the request (``time.perf_counter``), if it did."""
    tracked = scope.get("state", {}).get(_STATE_KEY)
    return None if tracked is None else float(tracked["started"])


def request_id_of(scope: Scope) -> str | None:
    """The id :class:`RequestLogMiddleware` gave the request, if it passed through it."""
    tracked = scope.get("state", {}).get(_STATE_KEY)
    return None if tracked is None else str(tracked["id"])


def stamp_request_id(message: Message, scope: Scope) -> None:
    """Every response, error responses included, names its request."""
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


def before_send(*hooks: ResponseHook) -> BeforeMessageSendHookHandler:
    """One ``before_send`` hook running ``hooks`` in order: Litestar awaits each hook it is
    given for every message; plain functions under one coroutine cost a call each."""

    async def hook(message: Message, scope: Scope) -> None:
        for each in hooks:
            each(message, scope)

    return hook
