"""Request ids, request logs and rate limits."""

from __future__ import annotations

import json

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import ADMIN, ADMIN_TOKEN, Tenant


async def test_every_response_carries_a_request_id(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    fresh = await client.get("/health")
    assert len(fresh.headers["x-request-id"]) == 32
    echoed = await client.get(tenant.base, headers=tenant.treasurer | {"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    refused = await client.get(tenant.base, headers={"X-Request-ID": "bad id\n"})
    assert refused.status_code == 401 and refused.headers["x-request-id"] != "bad id\n"
    # Also when no route matches (the router answers before any middleware runs).
    for unrouted in (f"{tenant.base}/webhooks/null,null/resume", "/no/such/page"):
        missing = await client.post(unrouted, headers=tenant.treasurer | {"X-Request-ID": "r-1"})
        assert (missing.status_code, missing.headers["x-request-id"]) == (404, "r-1")


async def test_the_request_log_names_the_principal_but_no_secret(
    client: AsyncTestClient[Litestar], tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await client.get(f"{tenant.base}/entries", headers=tenant.treasurer)
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    (line,) = [entry for entry in lines if entry.get("path") == f"{tenant.base}/entries"]
    assert line["status"] == 200 and line["request_id"] == response.headers["x-request-id"]
    assert line["principal"].startswith("api_key:")
    token = tenant.treasurer["Authorization"].split()[1]
    assert token not in json.dumps(lines)


async def test_a_refusal_by_middleware_is_logged_with_its_status(
    client: AsyncTestClient[Litestar], tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await client.get(f"{tenant.base}/entries")
    assert response.status_code == 401
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    (line,) = [entry for entry in lines if entry.get("path") == f"{tenant.base}/entries"]
    assert line["status"] == 401 and line["request_id"] == response.headers["x-request-id"]


async def test_a_token_over_its_rate_gets_429(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, admin_token=ADMIN_TOKEN, rate_limit_per_s=1, rate_limit_burst=3
    )
    async with AsyncTestClient(create_app(settings)) as client:
        statuses = [(await client.get("/api/v1/communities/none", headers=ADMIN)) for _ in range(4)]
        assert [r.status_code for r in statuses] == [404, 404, 404, 429]
        limited = statuses[-1]
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert int(limited.headers["retry-after"]) > 0
        assert limited.headers["ratelimit-remaining"] == "0"
        # Health checks are never limited.
        assert (await client.get("/health")).status_code == 200


async def test_nul_characters_are_refused_not_stored(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    created = await client.post(
        f"{tenant.base}/members", json={"name": "Eve\u0000"}, headers=tenant.treasurer
    )
    assert created.status_code == 400 and "NUL" in created.json()["detail"]
    body = {
        "debit_account_id": tenant.bob["hours_account_id"],
        "credit_account_id": tenant.ann["hours_account_id"],
        "amount": 5,
        "description": "Help",
        "metadata": {"note": "a\u0000b"},
    }
    transfer = await client.post(f"{tenant.base}/transfers", json=body, headers=tenant.treasurer)
    assert transfer.status_code == 400
    odd_slug = await client.get("/api/v1/communities/x%00y", headers=tenant.treasurer)
    assert odd_slug.status_code == 404


async def test_csrf_guards_the_member_page_only(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    """The CSRF check is the member page's own (its forms ride on a session cookie); the API,
    the probes and the metrics take no cookies, so a bearer call needs no CSRF token and no
    answer of theirs sets the CSRF cookie."""
    page = await client.get("/sign-in")
    assert page.status_code == 200 and "csrftoken" in page.cookies
    forged = await client.post("/sign-in", data={"token": "cl_x"}, follow_redirects=False)
    assert forged.status_code == 403
    client.cookies.clear()
    client.cookies.set("csrftoken", "forged")
    created = await client.post(
        f"{tenant.base}/members", json={"name": "Cy", "hours_min": 0}, headers=tenant.treasurer
    )
    assert created.status_code == 201, created.text
    client.cookies.clear()
    for path in ("/health", "/metrics", f"{tenant.base}/entries"):
        answer = await client.get(path, headers=tenant.treasurer)
        assert answer.status_code == 200 and "set-cookie" not in answer.headers, path


async def test_a_request_id_is_new_for_every_request(client: AsyncTestClient[Litestar]) -> None:
    ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(50)}
    assert len(ids) == 50 and all(len(each) == 32 for each in ids)
