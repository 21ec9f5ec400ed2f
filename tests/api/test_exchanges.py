"""Time-bank exchanges over HTTP, on SQLite and PostgreSQL.

In the ``tenant`` fixture Ann and Bob may each go 600 minutes into debt (``hours_min`` −600).
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, Tenant, bearer

Client = AsyncTestClient[Litestar]


def exchange_body(tenant: Tenant, minutes: object = 90, **extra: object) -> dict[str, object]:
    """Ann gives Bob ``minutes`` of help."""
    return {
        "provider_member_id": tenant.ann["id"],
        "receiver_member_id": tenant.bob["id"],
        "minutes": minutes,
        "description": "Fixed the bike",
        **extra,
    }


async def record(
    client: Client, tenant: Tenant, headers: dict[str, str] | None = None, **body: object
) -> dict[str, Any]:
    response = await client.post(
        f"{tenant.base}/exchanges",
        json=exchange_body(tenant) | body,
        headers=headers or tenant.ann_token,
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def balance(client: Client, tenant: Tenant, member: dict[str, object]) -> dict[str, Any]:
    response = await client.get(
        f"{tenant.base}/accounts/{member['hours_account_id']}/balance", headers=tenant.treasurer
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def add_member(client: Client, tenant: Tenant, name: str) -> tuple[str, dict[str, str]]:
    """A further member of the tenant and their token."""
    member = await client.post(
        f"{tenant.base}/members", json={"name": name}, headers=tenant.treasurer
    )
    assert member.status_code == 201, member.text
    token = await client.post(
        f"{tenant.base}/members/{member.json()['id']}/tokens", json={}, headers=tenant.treasurer
    )
    assert token.status_code == 201, token.text
    return member.json()["id"], bearer(token.json()["token"])


async def api_key(client: Client, tenant: Tenant, scope: str) -> dict[str, str]:
    key = await client.post(f"{tenant.base}/api-keys", json={"scopes": [scope]}, headers=ADMIN)
    assert key.status_code == 201, key.text
    return bearer(key.json()["token"])


async def test_an_exchange_is_pending_until_the_receiver_confirms(
    client: Client, tenant: Tenant
) -> None:
    created = await record(client, tenant, category="repairs")
    assert created | {"id": None, "effective_date": None, "created_at": None} == {
        "id": None,
        "status": "pending",
        "provider_member_id": tenant.ann["id"],
        "receiver_member_id": tenant.bob["id"],
        "minutes": 90,
        "description": "Fixed the bike",
        "category": "repairs",
        "effective_date": None,
        "created_at": None,
        "completed_at": None,
    }
    ann, bob = await balance(client, tenant, tenant.ann), await balance(client, tenant, tenant.bob)
    assert (ann["posted"], ann["pending"], ann["available"]) == (0, 90, 0)
    assert (bob["posted"], bob["pending"], bob["available"]) == (0, -90, -90)
    # The exchange is a pending journal entry of kind "exchange".
    entry = (
        await client.get(f"{tenant.base}/entries/{created['id']}", headers=tenant.treasurer)
    ).json()
    assert (entry["status"], entry["kind"]) == ("pending", "exchange")
    assert {p["account_id"]: p["amount"] for p in entry["postings"]} == {
        tenant.bob["hours_account_id"]: 90,
        tenant.ann["hours_account_id"]: -90,
    }
    assert entry["metadata"] == {
        "provider_member_id": tenant.ann["id"],
        "receiver_member_id": tenant.bob["id"],
        "category": "repairs",
        "recorded_by_member_id": tenant.ann["id"],
    }

    confirmed = await client.post(
        f"{tenant.base}/exchanges/{created['id']}/confirm", headers=tenant.bob_token
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["completed_at"] is not None
    ann, bob = await balance(client, tenant, tenant.ann), await balance(client, tenant, tenant.bob)
    assert (ann["posted"], ann["pending"]) == (90, 0)
    assert (bob["posted"], bob["pending"]) == (-90, 0)
    read = await client.get(f"{tenant.base}/exchanges/{created['id']}", headers=tenant.ann_token)
    assert read.status_code == 200 and read.json() == confirmed.json()

    twice = await client.post(
        f"{tenant.base}/exchanges/{created['id']}/confirm", headers=tenant.bob_token
    )
    assert twice.status_code == 409 and twice.json()["code"] == "entry_not_pending"
    late_decline = await client.post(
        f"{tenant.base}/exchanges/{created['id']}/decline", headers=tenant.bob_token
    )
    assert late_decline.status_code == 409


async def test_declining_voids_and_releases_the_reservation(client: Client, tenant: Tenant) -> None:
    created = await record(client, tenant, minutes=600)
    # Bob's whole allowance is reserved: a further exchange to him is refused.
    more = await client.post(
        f"{tenant.base}/exchanges", json=exchange_body(tenant, 1), headers=tenant.ann_token
    )
    assert more.status_code == 422 and more.json()["type"] == "/problems/limit-exceeded"
    declined = await client.post(
        f"{tenant.base}/exchanges/{created['id']}/decline", headers=tenant.bob_token
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    entry = await client.get(f"{tenant.base}/entries/{created['id']}", headers=tenant.treasurer)
    assert entry.json()["status"] == "voided"
    for member in (tenant.ann, tenant.bob):
        figures = await balance(client, tenant, member)
        assert (figures["posted"], figures["pending"], figures["available"]) == (0, 0, 0)
    await record(client, tenant, minutes=600)  # the allowance is free again


async def test_only_the_receiver_or_a_steward_completes(client: Client, tenant: Tenant) -> None:
    created = await record(client, tenant)
    url = f"{tenant.base}/exchanges/{created['id']}"
    for action in ("confirm", "decline"):
        provider = await client.post(f"{url}/{action}", headers=tenant.ann_token)
        assert provider.status_code == 403, provider.text
        assert "other side" in provider.json()["detail"]
    _, carol = await add_member(client, tenant, "Carol")
    for action in ("confirm", "decline"):
        stranger = await client.post(f"{url}/{action}", headers=carol)
        assert stranger.status_code == 404, stranger.text
    writer = await api_key(client, tenant, "write")
    assert (await client.post(f"{url}/confirm", headers=writer)).status_code == 403
    reader = await api_key(client, tenant, "read")
    assert (await client.post(f"{url}/confirm", headers=reader)).status_code == 403
    assert (await client.get(url, headers=reader)).status_code == 200
    steward = await client.post(f"{url}/confirm", headers=tenant.treasurer)
    assert steward.status_code == 200 and steward.json()["status"] == "confirmed"
    # The treasurer declines on the receiver's behalf as well.
    other = await record(client, tenant)
    declined = await client.post(
        f"{tenant.base}/exchanges/{other['id']}/decline", headers=tenant.treasurer
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"


async def test_a_third_member_cannot_see_an_exchange(client: Client, tenant: Tenant) -> None:
    created = await record(client, tenant)
    _, carol = await add_member(client, tenant, "Carol")
    hidden = await client.get(f"{tenant.base}/exchanges/{created['id']}", headers=carol)
    assert hidden.status_code == 404
    # Exactly as an id that is no exchange at all.
    transfer = await client.post(
        f"{tenant.base}/transfers",
        json={
            "debit_account_id": tenant.bob["hours_account_id"],
            "credit_account_id": tenant.ann["hours_account_id"],
            "amount": 5,
            "description": "Help",
        },
        headers=tenant.treasurer,
    )
    not_exchange = await client.get(
        f"{tenant.base}/exchanges/{transfer.json()['id']}", headers=tenant.treasurer
    )
    assert not_exchange.status_code == 404
    assert hidden.json()["code"] == not_exchange.json()["code"] == "entry_not_found"
    listed = await client.get(f"{tenant.base}/exchanges", headers=carol)
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_members_record_only_their_own_exchanges(client: Client, tenant: Tenant) -> None:
    carol_id, carol = await add_member(client, tenant, "Carol")
    between_others = await client.post(
        f"{tenant.base}/exchanges", json=exchange_body(tenant), headers=carol
    )
    assert between_others.status_code == 403, between_others.text
    assert "takes part" in between_others.json()["detail"]
    # Either side may record it: here the receiver does.
    by_receiver = await record(client, tenant, headers=carol, receiver_member_id=carol_id)
    assert by_receiver["status"] == "pending"
    # A write key records exchanges between any members.
    writer = await api_key(client, tenant, "write")
    assert (await record(client, tenant, headers=writer))["status"] == "pending"
    reader = await api_key(client, tenant, "read")
    denied = await client.post(
        f"{tenant.base}/exchanges", json=exchange_body(tenant), headers=reader
    )
    assert denied.status_code == 403


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"minutes": 0}, 400, "invalid_request"),
        ({"minutes": -30}, 400, "invalid_request"),
        ({"minutes": 1.5}, 400, "invalid_request"),
        ({"minutes": 90.0}, 400, "invalid_request"),
        ({"minutes": "90"}, 400, "invalid_request"),
        ({"minutes": 24 * 60 * 31 + 1}, 400, "invalid_request"),
        ({"description": ""}, 400, "invalid_request"),
        ({"category": "x" * 61}, 400, "invalid_request"),
        ({"surprise": True}, 400, "invalid_request"),
        ({"provider_member_id": "not-a-uuid"}, 400, "invalid_request"),
        ({"description": "   "}, 422, "invalid_input"),
        ({"minutes": 601}, 422, "limit_exceeded"),
    ],
)
async def test_bad_exchanges_are_refused(
    client: Client, tenant: Tenant, change: dict[str, object], status: int, code: str
) -> None:
    response = await client.post(
        f"{tenant.base}/exchanges", json=exchange_body(tenant) | change, headers=tenant.treasurer
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    listed = await client.get(f"{tenant.base}/exchanges", headers=tenant.treasurer)
    assert listed.json()["items"] == []


async def test_provider_and_receiver_must_differ_and_exist(client: Client, tenant: Tenant) -> None:
    url = f"{tenant.base}/exchanges"
    same = exchange_body(tenant, receiver_member_id=tenant.ann["id"])
    response = await client.post(url, json=same, headers=tenant.ann_token)
    assert response.status_code == 422 and response.json()["code"] == "invalid_input"
    ghost = exchange_body(tenant, receiver_member_id="0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f")
    missing = await client.post(url, json=ghost, headers=tenant.ann_token)
    assert missing.status_code == 404 and missing.json()["code"] == "member_not_found"


async def test_recording_is_idempotent(client: Client, tenant: Tenant) -> None:
    url = f"{tenant.base}/exchanges"
    headers = tenant.ann_token | {"Idempotency-Key": "bike-1"}
    first = await client.post(url, json=exchange_body(tenant), headers=headers)
    second = await client.post(url, json=exchange_body(tenant), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.content == second.content
    conflict = await client.post(url, json=exchange_body(tenant, 91), headers=headers)
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    # The key belongs to Ann: Bob's use of it is his own request.
    bobs = await client.post(
        url,
        json=exchange_body(tenant, 30),
        headers=tenant.bob_token | {"Idempotency-Key": "bike-1"},
    )
    assert bobs.status_code == 201
    # A refusal replays too.
    too_long = exchange_body(tenant, 700)
    refused = await client.post(
        url, json=too_long, headers=tenant.ann_token | {"Idempotency-Key": "k2"}
    )
    again = await client.post(
        url, json=too_long, headers=tenant.ann_token | {"Idempotency-Key": "k2"}
    )
    assert refused.status_code == again.status_code == 422
    assert refused.content == again.content
    listed = await client.get(url, headers=tenant.treasurer)
    assert len(listed.json()["items"]) == 2
    # Confirming under a key answers the same on a retry, not entry_not_pending.
    confirm = f"{url}/{first.json()['id']}/confirm"
    retry = tenant.bob_token | {"Idempotency-Key": "ok-1"}
    done = await client.post(confirm, headers=retry)
    redone = await client.post(confirm, headers=retry)
    assert (done.status_code, redone.status_code) == (200, 200)
    assert done.content == redone.content
    assert (await balance(client, tenant, tenant.ann))["posted"] == 90


async def test_listing_shows_members_their_own_exchanges(client: Client, tenant: Tenant) -> None:
    carol_id, carol = await add_member(client, tenant, "Carol")
    ann_to_bob = await record(client, tenant)
    carol_to_ann = await record(
        client,
        tenant,
        headers=carol,
        provider_member_id=carol_id,
        receiver_member_id=tenant.ann["id"],
    )
    # Entries that are no exchanges are left out of the list.
    await client.post(
        f"{tenant.base}/transfers",
        json={
            "debit_account_id": tenant.bob["hours_account_id"],
            "credit_account_id": tenant.ann["hours_account_id"],
            "amount": 5,
            "description": "Help",
        },
        headers=tenant.treasurer,
    )
    bob_to_carol = await record(
        client,
        tenant,
        headers=tenant.treasurer,
        provider_member_id=tenant.bob["id"],
        receiver_member_id=carol_id,
    )
    url = f"{tenant.base}/exchanges"

    async def ids(headers: dict[str, str], **params: str) -> list[str]:
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(tenant.ann_token) == [ann_to_bob["id"], carol_to_ann["id"]]
    assert await ids(tenant.bob_token) == [ann_to_bob["id"], bob_to_carol["id"]]
    assert await ids(carol) == [carol_to_ann["id"], bob_to_carol["id"]]
    everything = [ann_to_bob["id"], carol_to_ann["id"], bob_to_carol["id"]]
    assert await ids(tenant.treasurer) == everything
    assert await ids(await api_key(client, tenant, "read")) == everything

    # Pages follow one another with the cursor.
    first = (await client.get(url, params={"limit": 2}, headers=tenant.treasurer)).json()
    assert [item["id"] for item in first["items"]] == everything[:2]
    rest = (
        await client.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=tenant.treasurer
        )
    ).json()
    assert [item["id"] for item in rest["items"]] == everything[2:]
    assert rest["next_cursor"] is None

    # Filtered by status: what Ann still has to confirm.
    await client.post(f"{url}/{ann_to_bob['id']}/confirm", headers=tenant.bob_token)
    assert await ids(tenant.ann_token, status="pending") == [carol_to_ann["id"]]
    assert await ids(tenant.ann_token, status="confirmed") == [ann_to_bob["id"]]
    assert await ids(tenant.ann_token, status="declined") == []
    bad = await client.get(url, params={"status": "lost"}, headers=tenant.treasurer)
    assert bad.status_code == 400


async def test_a_write_key_cannot_complete_an_exchange_as_an_entry(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    writer = await client.post(f"{tenant.base}/api-keys", json={"scopes": ["write"]}, headers=ADMIN)
    write = {"Authorization": f"Bearer {writer.json()['token']}"}
    body = {
        "provider_member_id": tenant.ann["id"],
        "receiver_member_id": tenant.bob["id"],
        "minutes": 30,
        "description": "Soup",
    }
    exchange = await client.post(f"{tenant.base}/exchanges", json=body, headers=write)
    assert exchange.status_code == 201, exchange.text
    for action in ("post", "void"):
        sneaky = await client.post(
            f"{tenant.base}/entries/{exchange.json()['id']}/{action}", headers=write
        )
        assert sneaky.status_code == 403, sneaky.text


async def test_the_counterparty_of_the_recorder_confirms(client: Client, tenant: Tenant) -> None:
    """Issue 18, L1: a member who records an exchange never confirms it, whichever side they
    name themselves; the other side does. An exchange a key recorded waits for its receiver."""
    ann, bob = tenant.ann_token, tenant.bob_token

    async def answer(exchange: dict[str, Any], headers: dict[str, str]) -> int:
        path = f"{tenant.base}/exchanges/{exchange['id']}/confirm"
        return (await client.post(path, headers=headers)).status_code

    # Ann says Bob helped her, then tries to confirm it as its receiver.
    claimed = await record(
        client,
        tenant,
        headers=ann,
        provider_member_id=tenant.bob["id"],
        receiver_member_id=tenant.ann["id"],
    )
    assert await answer(claimed, ann) == 403
    assert await answer(claimed, bob) == 200
    # Ann says she helped Bob: Bob confirms, Ann cannot.
    given = await record(client, tenant, headers=ann)
    assert await answer(given, ann) == 403
    assert await answer(given, bob) == 200
    # Recorded by a write key: the receiver confirms, not the provider.
    writer = await api_key(client, tenant, "write")
    by_key = await record(client, tenant, headers=writer)
    assert await answer(by_key, ann) == 403
    assert await answer(by_key, bob) == 200


async def test_help_given_earlier_keeps_its_day(client: Client, tenant: Tenant) -> None:
    created = await record(client, tenant, tenant.ann_token, effective_date="2026-11-28")
    assert created["effective_date"] == "2026-11-28"
