"""``GET …/audit``: treasurers read who wrote what, under which request and key."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant


async def _all(client: AsyncTestClient[Litestar], tenant: Tenant, limit: int) -> list[Any]:
    records: list[Any] = []
    cursor = None
    while True:
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = await client.get(f"{tenant.base}/audit", params=params, headers=tenant.treasurer)
        assert page.status_code == 200, page.text
        records += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return records


async def test_the_trail_names_actor_request_key_and_result(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    body = {
        "debit_account_id": tenant.bob["hours_account_id"],
        "credit_account_id": tenant.ann["hours_account_id"],
        "amount": 30,
        "description": "Help",
    }
    headers = tenant.treasurer | {"X-Request-ID": "req-audit-1", "Idempotency-Key": "pay-1"}
    transfer = await client.post(f"{tenant.base}/transfers", json=body, headers=headers)
    assert transfer.status_code == 201
    replay = await client.post(f"{tenant.base}/transfers", json=body, headers=headers)
    assert replay.status_code == 201
    exchange = await client.post(
        f"{tenant.base}/exchanges",
        json={
            "provider_member_id": tenant.ann["id"],
            "receiver_member_id": tenant.bob["id"],
            "minutes": 45,
            "description": "Soup",
        },
        headers=tenant.ann_token | {"X-Request-ID": "req-audit-2"},
    )
    assert exchange.status_code == 201

    records = await _all(client, tenant, limit=50)
    # make_tenant's writes, the transfer once (the replay changed nothing), the exchange.
    assert [r["operation"] for r in records] == [
        "create_community",
        "issue_api_key",
        "create_member",
        "issue_member",
        "create_member",
        "issue_member",
        "post_entry",
        "post_entry",
    ]
    assert [r["seq"] for r in records] == list(range(1, 9))
    assert (records[0]["actor_kind"], records[0]["role"]) == ("bootstrap", "admin")
    token_ids = {r["result_ids"][0] for r in records if r["operation"] == "issue_member"}
    assert len(token_ids) == 2
    assert not any(tenant.ann_token["Authorization"].split()[1] in str(r) for r in records)
    paid = records[6]
    assert paid["request_id"] == "req-audit-1" and paid["idempotency_key"] == "pay-1"
    assert paid["result_ids"] == [transfer.json()["id"]]
    assert (paid["actor_kind"], paid["role"], paid["member_id"]) == ("api_key", "treasurer", None)
    swapped = records[7]
    assert (swapped["actor_kind"], swapped["role"]) == ("member", "member")
    assert swapped["member_id"] == tenant.ann["id"] and swapped["request_id"] == "req-audit-2"
    assert swapped["result_ids"] == [exchange.json()["id"]]
    assert [r["prev_hash"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    assert await _all(client, tenant, limit=1) == records


async def test_only_treasurers_read_the_trail(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    assert (await client.get(f"{tenant.base}/audit", headers=tenant.ann_token)).status_code == 403
    assert (await client.get(f"{tenant.base}/audit")).status_code == 401
