"""Cross exchanges and the directory over HTTP: recorded by one member, confirmed or declined
by the other in their own community, member tokens limited to their own, another community's
keys seeing nothing, and every refusal a problem+json with nothing written."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_tenant
from tests.api.test_federation import _linked, _ok, _problem

Client = AsyncTestClient[Litestar]
EXCHANGES = "federation/exchanges"
DIRECTORY = "federation/directory"


def _helped(a: Tenant, b: Tenant, link_id: str, minutes: int = 90) -> dict[str, Any]:
    """Ann of A helped Bob of B."""
    return {
        "link_id": link_id,
        "member_id": a.ann["id"],
        "role": "provider",
        "partner_member_id": b.bob["id"],
        "minutes": minutes,
        "description": "Fixed the bike",
    }


async def _hours(client: Client, tenant: Tenant, member: dict[str, Any]) -> int:
    url = f"{tenant.base}/accounts/{member['hours_account_id']}/balance"
    found = await _ok(await client.get(url, headers=tenant.treasurer))
    return int(found["posted"])


async def test_recorded_on_one_side_confirmed_on_the_other(client: Client) -> None:
    a, b, link_id = await _linked(client)
    body = _helped(a, b, link_id)
    recorded = await _ok(
        await client.post(f"{a.base}/{EXCHANGES}", json=body, headers=a.ann_token), 201
    )
    assert recorded["status"] == "pending" and recorded["recorded_here"]
    waiting = await _ok(
        await client.get(f"{b.base}/{EXCHANGES}?status=pending", headers=b.bob_token)
    )
    assert [x["id"] for x in waiting["items"]] == [recorded["id"]]
    assert waiting["items"][0]["role"] == "receiver" and not waiting["items"][0]["recorded_here"]
    # B's Ann sees nothing of Bob's; A's Ann cannot confirm what she recorded.
    assert (await _ok(await client.get(f"{b.base}/{EXCHANGES}", headers=b.ann_token)))[
        "items"
    ] == []
    url = f"{b.base}/{EXCHANGES}/{recorded['id']}"
    await _problem(await client.get(url, headers=b.ann_token), 404, "exchange_not_found")
    await _problem(
        await client.post(f"{url}/confirm", headers=b.ann_token), 404, "exchange_not_found"
    )
    own = f"{a.base}/{EXCHANGES}/{recorded['id']}/confirm"
    await _problem(await client.post(own, headers=a.ann_token), 403, "recorder_cannot_confirm")
    await _problem(await client.post(own, headers=a.treasurer), 403, "recorder_cannot_confirm")
    done = await _ok(await client.post(f"{url}/confirm", headers=b.bob_token))
    assert done["status"] == "confirmed"
    transfer = await _ok(
        await client.get(f"{b.base}/federation/transfers/{recorded['id']}", headers=b.bob_token)
    )
    assert transfer["state"] == "committed" and transfer["role"] == "payer"
    assert transfer["quote"]["amount_received"] == 90
    seen = await _ok(
        await client.get(f"{a.base}/{EXCHANGES}/{recorded['id']}", headers=a.ann_token)
    )
    assert seen["status"] == "confirmed"
    await _problem(
        await client.post(f"{url}/decline", headers=b.bob_token), 409, "entry_not_pending"
    )


async def test_declined_and_refusals_write_nothing(client: Client) -> None:
    a, b, link_id = await _linked(client, limit=60)
    url = f"{a.base}/{EXCHANGES}"
    # A member token records only for its own member; unknown partner member; bad minutes.
    await _problem(
        await client.post(url, json=_helped(a, b, link_id), headers=a.bob_token), 403, "forbidden"
    )
    unknown = _helped(a, b, link_id) | {"partner_member_id": str(a.bob["id"])}
    await _problem(
        await client.post(url, json=unknown, headers=a.ann_token), 404, "member_not_found"
    )
    zero = _helped(a, b, link_id) | {"minutes": 0}
    assert (await client.post(url, json=zero, headers=a.ann_token)).status_code == 400
    assert (await _ok(await client.get(url, headers=a.treasurer)))["items"] == []
    # Over the link's limit: the confirmation is refused and the exchange stays pending.
    over = await _ok(
        await client.post(url, json=_helped(a, b, link_id, 61), headers=a.ann_token), 201
    )
    confirm = f"{b.base}/{EXCHANGES}/{over['id']}/confirm"
    await _problem(await client.post(confirm, headers=b.bob_token), 422, "link_limit_exceeded")
    assert await _hours(client, b, b.bob) == 0
    declined = await _ok(
        await client.post(f"{b.base}/{EXCHANGES}/{over['id']}/decline", headers=b.bob_token)
    )
    assert declined["status"] == "declined"
    assert await _hours(client, a, a.ann) == 0 and await _hours(client, b, b.bob) == 0


async def test_another_community_sees_nothing(client: Client) -> None:
    a, b, link_id = await _linked(client)
    recorded = await _ok(
        await client.post(
            f"{a.base}/{EXCHANGES}", json=_helped(a, b, link_id), headers=a.ann_token
        ),
        201,
    )
    c = await make_tenant(client)
    theirs = f"{c.base}/{EXCHANGES}/{recorded['id']}"
    await _problem(await client.get(theirs, headers=c.treasurer), 404, "exchange_not_found")
    await _problem(
        await client.post(f"{theirs}/confirm", headers=c.treasurer), 404, "exchange_not_found"
    )
    # Keys of C on A's path: the community itself is hidden.
    assert (await client.get(f"{a.base}/{EXCHANGES}", headers=c.treasurer)).status_code == 404
    assert (await client.get(f"{a.base}/{DIRECTORY}", headers=c.ann_token)).status_code == 404
    assert await _ok(await client.get(f"{c.base}/{DIRECTORY}", headers=c.ann_token)) == []


async def test_the_directory_is_opt_in(client: Client) -> None:
    a, b, link_id = await _linked(client)
    directory = f"{a.base}/{DIRECTORY}"
    assert await _ok(await client.get(directory, headers=a.ann_token)) == []
    me = f"{b.base}/{DIRECTORY}/me"
    assert (await _ok(await client.get(me, headers=b.bob_token)))["listed"] is False
    await _problem(
        await client.put(me, json={"listed": True}, headers=b.treasurer), 403, "forbidden"
    )
    await _ok(await client.put(me, json={"listed": True}, headers=b.bob_token))
    listed = await _ok(await client.get(directory, headers=a.ann_token))
    assert [(x["member_id"], x["community"], x["link_id"]) for x in listed] == [
        (b.bob["id"], b.slug, link_id)
    ]
    await _ok(await client.put(me, json={"listed": False}, headers=b.bob_token))
    assert await _ok(await client.get(directory, headers=a.treasurer)) == []
