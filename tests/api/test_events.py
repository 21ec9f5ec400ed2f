"""The event feed over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, Tenant, make_tenant
from tests.api.test_exchanges import record

Client = AsyncTestClient[Litestar]


async def feed(client: Client, tenant: Tenant, headers: dict[str, str], query: str = "") -> Any:
    response = await client.get(f"{tenant.base}/events?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_feed_tells_what_happened_in_order(client: Client, tenant: Tenant) -> None:
    exchange = await record(client, tenant)
    confirmed = await client.post(
        f"{tenant.base}/exchanges/{exchange['id']}/confirm", headers=tenant.bob_token
    )
    assert confirmed.status_code == 200, confirmed.text

    page = await feed(client, tenant, tenant.treasurer)
    assert [item["type"] for item in page["items"]] == [
        "member.created",
        "member.created",
        "entry.pending",
        "exchange.requested",
        "entry.posted",
        "exchange.confirmed",
    ]
    last = page["items"][-1]
    assert last["resource"] == {"kind": "exchange", "id": exchange["id"]}
    assert last["community"] == tenant.slug and last["occurred_at"].endswith("Z")
    assert page["next_cursor"] is None
    # Polling after the last position finds nothing new; a new write shows up there.
    assert (await feed(client, tenant, tenant.treasurer, f"after={last['position']}"))[
        "items"
    ] == []
    await record(client, tenant)
    newer = await feed(client, tenant, tenant.treasurer, f"after={last['position']}")
    assert [item["type"] for item in newer["items"]] == ["entry.pending", "exchange.requested"]

    first = await feed(client, tenant, tenant.treasurer, "limit=2&types=entry.pending")
    assert [item["type"] for item in first["items"]] == ["entry.pending"] * 2
    assert first["next_cursor"] is None


async def test_pages_follow_the_cursor(client: Client, tenant: Tenant) -> None:
    for _ in range(3):
        await record(client, tenant)
    types, cursor = [], ""
    while True:
        page = await feed(client, tenant, tenant.treasurer, f"limit=3{cursor}")
        types += [item["type"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(types) == 2 + 3 * 2


async def test_a_member_sees_only_its_own_events(client: Client, tenant: Tenant) -> None:
    await record(client, tenant)
    other = await client.post(
        f"{tenant.base}/members", json={"name": "Cid"}, headers=tenant.treasurer
    )
    assert other.status_code == 201
    ann = await feed(client, tenant, tenant.ann_token)
    assert [item["type"] for item in ann["items"]] == [
        "member.created",
        "entry.pending",
        "exchange.requested",
    ]
    assert ann["items"][0]["resource"]["id"] == tenant.ann["id"]
    everyone = await feed(client, tenant, tenant.treasurer)
    assert len(everyone["items"]) == 2 + 2 + 1


async def test_bad_requests_are_refused(client: Client, tenant: Tenant) -> None:
    bad_type = await client.get(f"{tenant.base}/events?types=entry.nonsense", headers=ADMIN)
    assert bad_type.status_code == 422, bad_type.text
    bad_cursor = await client.get(f"{tenant.base}/events?after=bm9wZQ", headers=ADMIN)
    assert bad_cursor.status_code == 400
    stranger = await make_tenant(client)
    foreign = await client.get(f"{tenant.base}/events", headers=stranger.treasurer)
    assert foreign.status_code == 404
