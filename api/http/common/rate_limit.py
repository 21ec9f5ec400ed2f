"""Rate limits: a token bucket per credential, and one per client address for failed sign-ins.

**Per credential** (:class:`CredentialLimit`, after authentication): each API key or member token
— the credential the request authenticated as, however its header was spelt — has a bucket of
``COMMONS_LEDGER_RATE_LIMIT_BURST`` requests refilled at ``COMMONS_LEDGER_RATE_LIMIT_PER_S``.
Requests that carry no credential (the member page) are counted per client address.

**Per address, failed authentication** (:class:`FailedAuthThrottle`, before authentication):
every 401 of a request that carried a bearer token takes a token from its client address's bucket
(``…_AUTH_FAILURES_PER_MINUTE`` at once, refilled at that rate); an address whose bucket is empty
is answered 429 for a token this process has not seen authenticate, before it is looked up, so
guessing tokens costs the guesser time and the database nothing. IPv6 addresses count per /64,
the block one subscriber usually holds.

Memory is bounded: at most :data:`MAX_BUCKETS` buckets each, the least recently used dropped
first (a dropped bucket was refilling anyway: it comes back full). ``/health``, ``/ready``,
``/metrics`` and ``/schema`` are never limited: a scraper or an orchestrator must not meet a 429
it was not told about. Counted per worker process.

Why these defaults (docs/security.md, "Rate limits"): one worker sustains ≈ 220–500 transfers/s
and ≈ 1,300 balance reads/s in all (docs/performance.md), so 200 requests/s sustained with a burst
of 1,000 lets one till, sync job or import script run as fast as it can in practice while no
single credential can hold the service for long.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.base import DefineMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.http.common.auth import bearer_of
from api.http.common.errors import problem_response
from api.settings import Settings
from ledger.access.principals import Principal

MAX_BUCKETS: Final = 10_000
"""Buckets kept per limiter (≈ 150 bytes each)."""
UNLIMITED_PATHS: Final = re.compile(r"^/(health|ready|metrics|schema)(/|$)")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """A bucket of ``burst`` tokens per key, refilled at ``per_s``; at most ``max_keys`` kept."""

    def __init__(
        self,
        per_s: float,
        burst: int,
        max_keys: int = MAX_BUCKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_s, self.burst = per_s, burst
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_s)
            bucket.at = now
        return bucket

    def wait_s(self, key: str) -> float:
        """Seconds until ``key`` has a token (0: it has one now); takes none."""
        bucket = self._bucket(key)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.per_s

    def take(self, key: str) -> float:
        """Takes a token of ``key`` and answers 0, or answers the seconds until one is there."""
        bucket = self._bucket(key)
        if bucket.tokens < 1:
            return (1 - bucket.tokens) / self.per_s
        bucket.tokens -= 1
        return 0.0

    def headers(self, key: str) -> dict[str, str]:
        """``RateLimit-*`` headers: the burst, what is left, seconds until the bucket is full."""
        bucket = self._buckets.get(key)
        left = bucket.tokens if bucket is not None else float(self.burst)
        return {
            "RateLimit-Policy": f"{self.burst};w={math.ceil(self.burst / self.per_s)}",
            "RateLimit-Limit": str(self.burst),
            "RateLimit-Remaining": str(int(left)),
            "RateLimit-Reset": str(math.ceil((self.burst - left) / self.per_s)),
        }


def address_key(scope: Scope) -> str:
    """The client address (as the server saw it, after trusted proxy headers), IPv6 per /64."""
    client = scope.get("client")
    return _address_key(client[0] if client else "unknown")


@functools.lru_cache(maxsize=1024)
def _address_key(host: str) -> str:
    # Parsed once per address seen lately, not per request (``ipaddress`` costs microseconds).
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"address:{host}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"address:{address.ipv4_mapped}"
        return f"address:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"address:{address}"


async def _too_many(scope: Scope, receive: Receive, send: Send, wait_s: float) -> None:
    retry = str(max(1, math.ceil(wait_s)))
    response = problem_response(
        429, "too_many_requests", "Too many requests", headers={"Retry-After": retry}
    )
    await response.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]


def _limited(scope: Scope) -> bool:
    return scope["type"] == ScopeType.HTTP and not UNLIMITED_PATHS.match(scope["path"])


class FailedAuthThrottle:
    """Before authentication: 429 for an address out of failed-authentication tokens — unless
    the request's token authenticated in this process before, so that a guesser behind the same
    address (a NAT, a proxy not named in ``FORWARDED_ALLOW_IPS``) cannot lock out the clients
    already at work there. Such tokens are remembered by their SHA-256, at most
    :data:`MAX_BUCKETS` of them."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets, known: OrderedDict[str, None]) -> None:
        # Litestar builds a middleware stack per route: the state is shared, handed in.
        self.app, self.buckets, self._known = app, buckets, known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bearer = bearer_of(scope) if _limited(scope) else None
        if bearer is None:
            # No token, nothing to look up: its 401 costs nothing and guesses nothing.
            await self.app(scope, receive, send)
            return
        digest = bearer.digest
        key = address_key(scope)
        if (wait_s := self.buckets.wait_s(key)) and digest not in self._known:
            await _too_many(scope, receive, send, wait_s)
            return
        try:
            await self._counting(scope, receive, send, key)
        finally:
            if isinstance(scope.get("user"), Principal):
                self._remember(digest)

    def _remember(self, digest: str) -> None:
        self._known[digest] = None
        self._known.move_to_end(digest)
        while len(self._known) > MAX_BUCKETS:
            self._known.popitem(last=False)

    async def _counting(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.buckets.take(key)
            await send(message)

        try:
            await self.app(scope, receive, counting)
        except NotAuthorizedException:
            # The authentication middleware raises its 401; the app's outer handler sends it.
            self.buckets.take(key)
            raise


class CredentialLimit:
    """After authentication: the request's credential (or address) takes a token, or 429."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app, self.buckets = app, buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _limited(scope):
            await self.app(scope, receive, send)
            return
        key = _credential_key(scope)
        if wait_s := self.buckets.take(key):
            await _too_many(scope, receive, _with_headers(send, self.buckets.headers(key)), wait_s)
            return
        if scope["path"].startswith("/api/"):
            send = _with_headers(send, self.buckets.headers(key))
        await self.app(scope, receive, send)


def _credential_key(scope: Scope) -> str:
    user: Any = scope.get("user")
    if isinstance(user, Principal):
        # The credential's id, or the bootstrap admin's name: never the header's spelling.
        return f"credential:{user.kind}:{user.credential_id}"
    return address_key(scope)


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *encoded]
        await send(message)

    return sending


def rate_limit_middleware(
    settings: Settings,
) -> tuple[list[DefineMiddleware], list[DefineMiddleware]]:
    """The middleware to place before authentication, and that to place after it."""
    failures = settings.auth_failures_per_minute
    before = (
        [
            DefineMiddleware(
                FailedAuthThrottle,
                buckets=TokenBuckets(failures / 60, failures),
                known=OrderedDict(),
            )
        ]
        if failures
        else []
    )
    if settings.rate_limit_per_s == 0:
        return before, []
    buckets = TokenBuckets(settings.rate_limit_per_s, settings.rate_limit_burst)
    return before, [DefineMiddleware(CredentialLimit, buckets=buckets)]
