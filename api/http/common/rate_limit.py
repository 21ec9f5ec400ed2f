"""Per-token rate limiting, answering 429 with ``RateLimit-*`` headers and ``Retry-After``.

Requests are counted per bearer token (by its hash), or per client address without one. The
counters live in the process's memory: with several workers each counts on its own.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address

from api.settings import Settings


def _identifier(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "address:" + get_remote_address(request)


def rate_limit_middleware(settings: Settings) -> list[DefineMiddleware]:
    if settings.rate_limit_per_minute == 0:
        return []
    config = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        identifier_for_request=_identifier,
        exclude=["^/health", "^/ready", "^/schema"],
    )
    return [config.middleware]
