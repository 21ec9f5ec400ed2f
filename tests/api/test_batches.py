"""``POST …/transfers:batch`` over HTTP, on SQLite and PostgreSQL: per-item results, 200 or 207,
byte-identical replays, limits across items, the bounds of a batch."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant

Client = AsyncTestClient[Litestar]


def transfer(tenant: Tenant, key: str, minutes: int, *, reverse: bool = False) -> dict[str, Any]:
    debit, credit = tenant.ann, tenant.bob
    if reverse:
        debit, credit = credit, debit
    return {
        "debit_account_id": debit["hours_account_id"],
        "credit_account_id": credit["hours_account_id"],
        "amount": minutes,
        "description": "Help",
        "idempotency_key": key,
    }


async def balance(client: Client, tenant: Tenant, member: dict[str, Any]) -> int:
    response = await client.get(
        f"{tenant.base}/accounts/{member['hours_account_id']}/balance", headers=tenant.treasurer
    )
    posted: int = response.json()["posted"]
    return posted


async def test_mixed_items_answer_207_with_a_result_each(client: Client, tenant: Tenant) -> None:
    # Ann may go 600 minutes below zero (the tenant's hours_min).
    items = [
        transfer(tenant, "k1", 400),
        transfer(tenant, "k2", 400),  # would take Ann to -800
        {**transfer(tenant, "k3", 5), "credit_account_id": str(uuid.uuid4())},  # no such one
        transfer(tenant, "k4", 100, reverse=True),
        transfer(tenant, "k5", 250),
    ]
    url = f"{tenant.base}/transfers:batch"
    response = await client.post(url, json={"items": items}, headers=tenant.treasurer)
    assert response.status_code == 207, response.text
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (3, 2)
    results = body["items"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == [201, 422, 404, 201, 201]
    assert results[1]["problem"] == {
        "type": "/problems/limit-exceeded",
        "title": "Unprocessable request",
        "status": 422,
        "detail": results[1]["problem"]["detail"],
        "code": "limit_exceeded",
        "index": 1,
    }
    assert results[2]["problem"]["code"] == "account_not_found"
    assert results[0]["entry"]["kind"] == "transfer" and "problem" not in results[0]
    assert await balance(client, tenant, tenant.ann) == -400 + 100 - 250
    # Each entry reads back as the batch answered it.
    read = await client.get(
        f"{tenant.base}/entries/{results[4]['entry']['id']}", headers=tenant.treasurer
    )
    assert read.json() == results[4]["entry"]

    replay = await client.post(url, json={"items": items}, headers=tenant.treasurer)
    assert (replay.status_code, replay.content) == (response.status_code, response.content)
    assert await balance(client, tenant, tenant.ann) == -550


async def test_all_good_is_200_and_keys_are_shared_with_single_transfers(
    client: Client, tenant: Tenant
) -> None:
    single = {k: v for k, v in transfer(tenant, "", 30).items() if k != "idempotency_key"}
    first = await client.post(
        f"{tenant.base}/transfers",
        json=single,
        headers={**tenant.treasurer, "Idempotency-Key": "shared"},
    )
    assert first.status_code == 201
    response = await client.post(
        f"{tenant.base}/transfers:batch",
        json={"items": [transfer(tenant, "shared", 30), transfer(tenant, "new", 10)]},
        headers=tenant.treasurer,
    )
    assert response.status_code == 200, response.text
    results = response.json()["items"]
    assert results[0]["entry"] == first.json()
    assert await balance(client, tenant, tenant.bob) == 40


async def test_the_batch_bounds_and_who_may_send_one(client: Client, tenant: Tenant) -> None:
    url = f"{tenant.base}/transfers:batch"
    for items in ([], [transfer(tenant, f"k{i}", 1) for i in range(1001)]):
        response = await client.post(url, json={"items": items}, headers=tenant.treasurer)
        assert response.status_code == 400, len(items)
    missing_key = {k: v for k, v in transfer(tenant, "x", 1).items() if k != "idempotency_key"}
    response = await client.post(url, json={"items": [missing_key]}, headers=tenant.treasurer)
    assert response.status_code == 400
    response = await client.post(
        url, json={"items": [transfer(tenant, "m", 1)]}, headers=tenant.ann_token
    )
    assert response.status_code == 403
    assert await balance(client, tenant, tenant.bob) == 0


async def test_a_full_batch_of_a_thousand(client: Client, tenant: Tenant) -> None:
    items = [transfer(tenant, f"n{i}", 1, reverse=i % 2 == 1) for i in range(1000)]
    response = await client.post(
        f"{tenant.base}/transfers:batch", json={"items": items}, headers=tenant.treasurer
    )
    assert response.status_code == 200, response.text
    assert response.json()["succeeded"] == 1000
    assert await balance(client, tenant, tenant.bob) == 0
    entries = await client.get(f"{tenant.base}/entries?limit=500", headers=tenant.treasurer)
    ids = [entry["id"] for entry in entries.json()["items"]]
    assert ids == [r["entry"]["id"] for r in response.json()["items"][:500]]
