"""Balance monitors over HTTP, and their events in the feed."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant

Client = AsyncTestClient[Litestar]


async def test_a_monitor_emits_into_the_feed(client: Client, tenant: Tenant) -> None:
    account = tenant.ann["hours_account_id"]
    created = await client.post(
        f"{tenant.base}/monitors",
        json={
            "account_id": account,
            "direction": "below",
            "threshold": -60,
            "description": "Ann is running low",
        },
        headers=tenant.treasurer,
    )
    assert created.status_code == 201, created.text
    monitor = created.json()
    assert monitor["crossed"] is False and monitor["measure"] == "posted"
    moved = await client.post(
        f"{tenant.base}/transfers",
        json={
            "debit_account_id": account,
            "credit_account_id": tenant.bob["hours_account_id"],
            "amount": 90,
            "description": "Help",
        },
        headers=tenant.treasurer,
    )
    assert moved.status_code == 201, moved.text
    # Ann's own token sees the crossing of her account's monitor.
    feed = await client.get(
        f"{tenant.base}/events?types=balance.threshold_crossed", headers=tenant.ann_token
    )
    [event] = feed.json()["items"]
    assert event["resource"] == {"kind": "monitor", "id": monitor["id"]}
    assert event["data"]["beyond"] is True and event["data"]["value"] == -90
    bob_feed = await client.get(
        f"{tenant.base}/events?types=balance.threshold_crossed", headers=tenant.bob_token
    )
    assert bob_feed.json()["items"] == []

    read = await client.get(f"{tenant.base}/monitors/{monitor['id']}", headers=tenant.treasurer)
    assert read.json()["crossed"] is True
    listed = await client.get(
        f"{tenant.base}/monitors?account_id={account}", headers=tenant.treasurer
    )
    assert [m["id"] for m in listed.json()["items"]] == [monitor["id"]]
    gone = await client.delete(f"{tenant.base}/monitors/{monitor['id']}", headers=tenant.treasurer)
    assert gone.status_code == 204
    missing = await client.get(f"{tenant.base}/monitors/{monitor['id']}", headers=tenant.treasurer)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/monitor-not-found")


async def test_bad_monitors_are_refused(client: Client, tenant: Tenant) -> None:
    base = {"account_id": tenant.ann["hours_account_id"], "threshold": 0}
    for body, status in (
        ({**base, "direction": "under"}, 400),
        ({**base, "direction": "below", "measure": "pending"}, 400),
        ({**base, "direction": "below", "threshold": 1.5}, 400),
        ({**base, "direction": "below", "account_id": tenant.ann["id"]}, 404),
    ):
        response = await client.post(f"{tenant.base}/monitors", json=body, headers=tenant.treasurer)
        assert response.status_code == status, (body, response.text)
    member = await client.post(
        f"{tenant.base}/monitors", json={**base, "direction": "below"}, headers=tenant.ann_token
    )
    assert member.status_code == 403
