"""Lock and timeout discipline: a request that waits on a lock, or runs a statement, past its
bound fails cleanly (409 ``lock_timeout`` / 503 ``statement_timeout`` with ``Retry-After``)
instead of stalling the pool; other requests go on; a retry under the same key then succeeds,
since the failed attempt claimed nothing."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, Tenant, make_tenant
from tests.faults.locks import holding_account

BOUND_MS = 300
BLOCKED_REQUESTS = 12
"""More than the PostgreSQL pool's 10 connections: the bound must keep the pool moving."""


def _transfer(tenant: Tenant) -> dict[str, object]:
    return {
        "debit_account_id": tenant.bob["hours_account_id"],
        "credit_account_id": tenant.ann["hours_account_id"],
        "amount": 15,
        "description": "help",
    }


async def _blocked_then_retried(
    client: AsyncTestClient[Litestar], tenant: Tenant, database_url: str
) -> list[httpx.Response]:
    """Sends transfers while Ann's account is held; checks that reads still answer; retries
    the first transfer after the lock is released and expects it written once."""
    path = f"{tenant.base}/transfers"
    headers = [
        tenant.treasurer | {"Idempotency-Key": f"blocked-{n}"} for n in range(BLOCKED_REQUESTS)
    ]
    async with holding_account(database_url, str(tenant.ann["hours_account_id"])):
        started = time.monotonic()
        blocked = await asyncio.gather(
            *(client.post(path, json=_transfer(tenant), headers=h) for h in headers)
        )
        # Each waits about the bound; without it they would wait as long as the holder.
        assert time.monotonic() - started < 15
        read = await client.get(f"{tenant.base}/members", headers=tenant.treasurer)
        assert read.status_code == 200
    for response in blocked:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["retry-after"]) > 0
    retried = await client.post(path, json=_transfer(tenant), headers=headers[0])
    assert retried.status_code == 201, retried.text
    again = await client.post(path, json=_transfer(tenant), headers=headers[0])
    assert again.content == retried.content
    entries = await client.get(f"{tenant.base}/entries", headers=tenant.treasurer)
    assert [entry["id"] for entry in entries.json()["items"]] == [retried.json()["id"]]
    return list(blocked)


@pytest.mark.timeout(120)
async def test_a_lock_wait_past_its_bound_answers_409(database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        rate_limit_per_s=0,
        lock_timeout_ms=BOUND_MS,
    )
    async with AsyncTestClient(create_app(settings)) as client:
        tenant = await make_tenant(client)
        blocked = await _blocked_then_retried(client, tenant, database_url)
    assert {(r.status_code, r.json()["code"]) for r in blocked} == {(409, "lock_timeout")}


@pytest.mark.timeout(120)
async def test_a_statement_past_its_bound_answers_503(postgresql_database_url: str) -> None:
    # No lock bound: the lock wait is then just a slow statement, cut by the statement bound.
    settings = Settings(
        database_url=postgresql_database_url,
        admin_token=ADMIN_TOKEN,
        rate_limit_per_s=0,
        lock_timeout_ms=0,
        statement_timeout_ms=BOUND_MS,
    )
    # The community is set up without the bound: on a loaded machine its inserts alone may
    # take longer than 300 ms.
    unbounded = Settings(
        database_url=postgresql_database_url, admin_token=ADMIN_TOKEN, rate_limit_per_s=0
    )
    async with AsyncTestClient(create_app(unbounded)) as setup:
        tenant = await make_tenant(setup)
    async with AsyncTestClient(create_app(settings)) as client:
        blocked = await _blocked_then_retried(client, tenant, postgresql_database_url)
    assert {(r.status_code, r.json()["code"]) for r in blocked} == {(503, "statement_timeout")}
