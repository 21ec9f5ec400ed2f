"""The rate limit (issue 18, M3): keyed on the credential that authenticated, not on how its
header was spelt; failed authentication throttled per client address before any lookup; bounded
memory; never on /metrics; a token bucket whose defaults a busy integration does not meet."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.http.common.rate_limit import MAX_BUCKETS, TokenBuckets
from api.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, make_tenant

Client = AsyncTestClient[Litestar]


def _app(database_url: str, **limits: Any) -> Litestar:
    settings = replace(Settings(database_url=database_url, admin_token=ADMIN_TOKEN), **limits)
    return create_app(settings)


async def test_spelling_the_header_differently_gives_no_fresh_bucket(database_url: str) -> None:
    async with AsyncTestClient(_app(database_url)) as client:
        tenant = await make_tenant(client)
    limited = _app(database_url, rate_limit_per_s=1, rate_limit_burst=3)
    token = tenant.treasurer["Authorization"].split(" ", 1)[1]
    spellings = [f"Bearer {token}", f"Bearer   {token}", f"bearer {token}  ", f"BEARER {token}\t"]
    async with AsyncTestClient(limited) as client:
        statuses = [
            (await client.get(f"{tenant.base}/members", headers={"Authorization": h})).status_code
            for h in spellings
        ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


async def test_guessing_tokens_is_throttled_per_address(database_url: str) -> None:
    app = _app(database_url, auth_failures_per_minute=5)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with AsyncTestClient(app) as client:
        # A client at work from that address before the guessing started (on another route:
        # Litestar builds a middleware stack per route, and what is known must be shared).
        assert (await client.get("/api/v1/communities/x", headers=admin)).status_code == 404
        statuses = [
            (
                await client.get(
                    "/api/v1/communities/any/members",
                    headers={"Authorization": f"Bearer {secrets.token_urlsafe(24)}"},
                )
            ).status_code
            for _ in range(7)
        ]
        assert statuses == [401] * 5 + [429] * 2
        # Out of tries, the address is refused any token not seen at work before, right or
        # wrong, without a lookup; the client already at work there goes on.
        assert (await client.get("/api/v1/communities/x/members", headers=admin)).status_code == 404


async def test_metrics_and_health_are_never_limited(database_url: str) -> None:
    app = _app(database_url, rate_limit_per_s=1, rate_limit_burst=2, auth_failures_per_minute=1)
    async with AsyncTestClient(app) as client:
        for _ in range(5):
            assert (await client.get("/metrics")).status_code == 200
            assert (await client.get("/health")).status_code == 200


async def test_the_default_lets_a_busy_integration_through(database_url: str) -> None:
    async with AsyncTestClient(_app(database_url)) as client:
        tenant = await make_tenant(client)
        responses = await asyncio.gather(
            *(client.get(f"{tenant.base}/members", headers=tenant.treasurer) for _ in range(300))
        )
    assert {r.status_code for r in responses} == {200}
    assert int(responses[-1].headers["ratelimit-limit"]) >= 1000


def test_buckets_refill_at_the_sustained_rate_up_to_the_burst() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_s=10, burst=20, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(20)] == [0.0] * 20
    assert buckets.take("k") == 0.1  # one token in 0.1 s
    now[0] += 0.5
    assert [buckets.take("k") for _ in range(5)] == [0.0] * 5
    assert buckets.take("k") > 0
    now[0] += 100
    assert buckets.headers("k")["RateLimit-Remaining"] == "0"  # read before the refill
    assert buckets.wait_s("k") == 0.0 and buckets.headers("k")["RateLimit-Remaining"] == "20"


def test_memory_is_bounded_however_many_keys_arrive() -> None:
    buckets = TokenBuckets(per_s=1, burst=5)
    for _ in range(3 * MAX_BUCKETS):
        buckets.take(secrets.token_hex(16))
    assert len(buckets) == MAX_BUCKETS
