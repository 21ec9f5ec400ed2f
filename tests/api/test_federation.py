"""Federation over HTTP: links proposed, accepted and adopted by each side's stewards, cross
transfers between two communities of the install, who may see and do what, and every refusal a
problem+json with nothing written."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, Tenant, make_tenant

Client = AsyncTestClient[Litestar]
LINKS = "federation/links"
TRANSFERS = "federation/transfers"


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


async def _steward(client: Client, tenant: Tenant) -> None:
    role = {"member_id": tenant.ann["id"], "role": "steward"}
    await _ok(await client.post(f"{tenant.base}/roles", json=role, headers=ADMIN), 201)


async def _linked(client: Client, limit: int = 600) -> tuple[Tenant, Tenant, str]:
    """Two tenants, Ann the steward of each, and an active hours link between them."""
    a, b = await make_tenant(client), await make_tenant(client)
    await _steward(client, a)
    await _steward(client, b)
    terms = [{"commodity": "HOURS", "partner_commodity": "HOURS",
              "limit_we_owe": limit, "limit_they_owe": limit}]  # fmt: skip
    body = {"partner": b.slug, "terms": terms}
    link = await _ok(await client.post(f"{a.base}/{LINKS}", json=body, headers=a.treasurer), 201)
    assert link["status"] == "proposed" and link["proposed_by"] == "us"
    link_id = link["id"]
    adopt = f"{a.base}/{LINKS}/{link_id}/versions/1/adopt"
    await _ok(await client.post(adopt, headers=a.ann_token))
    accepted = await _ok(
        await client.post(f"{b.base}/{LINKS}/{link_id}/accept", headers=b.ann_token)
    )
    assert accepted["status"] == "active" and accepted["proposed_by"] == "partner"
    assert accepted["version_in_force"] == 1
    return a, b, link_id


def _pay(tenant_from: Tenant, tenant_to: Tenant, link_id: str, minutes: int) -> dict[str, Any]:
    return {
        "link_id": link_id,
        "payer_member_id": tenant_from.ann["id"],
        "payee_member_id": tenant_to.bob["id"],
        "commodity": "HOURS",
        "amount": minutes,
    }


async def test_only_stewards_adopt_and_both_sides_see_every_term(client: Client) -> None:
    a, b = await make_tenant(client), await make_tenant(client)
    await _steward(client, a)
    terms = [{"commodity": "HOURS", "partner_commodity": "HOURS",
              "limit_we_owe": 300, "limit_they_owe": 120}]  # fmt: skip
    body = {"partner": b.slug, "terms": terms}
    refused = await client.post(f"{a.base}/{LINKS}", json=body, headers=a.bob_token)
    assert refused.status_code == 403
    link = await _ok(await client.post(f"{a.base}/{LINKS}", json=body, headers=a.treasurer), 201)
    adopt = f"{a.base}/{LINKS}/{link['id']}/versions/1/adopt"
    assert (await client.post(adopt, headers=a.treasurer)).status_code == 403
    assert (await client.post(adopt, headers=a.bob_token)).status_code == 403
    theirs = await _ok(await client.get(f"{b.base}/{LINKS}/{link['id']}", headers=b.bob_token))
    assert theirs["versions"][0]["terms"][0]["limit_we_owe"] == 120
    assert theirs["versions"][0]["terms"][0]["limit_they_owe"] == 300
    listed = await _ok(await client.get(f"{b.base}/{LINKS}", headers=b.treasurer))
    assert [item["id"] for item in listed["items"]] == [link["id"]]
    unknown = {"partner": "no-such-community", "terms": terms}
    await _problem(
        await client.post(f"{a.base}/{LINKS}", json=unknown, headers=a.treasurer),
        404,
        "partner_not_found",
    )
    await _problem(
        await client.post(f"{a.base}/{LINKS}", json=body, headers=a.treasurer), 409, "link_exists"
    )


async def test_a_transfer_is_on_both_books_and_in_both_feeds(client: Client) -> None:
    a, b, link_id = await _linked(client)
    body = _pay(a, b, link_id, 90)
    headers = {**a.treasurer, "Idempotency-Key": "pay-1"}
    made = await _ok(await client.post(f"{a.base}/{TRANSFERS}", json=body, headers=headers), 201)
    again = await _ok(await client.post(f"{a.base}/{TRANSFERS}", json=body, headers=headers), 201)
    assert made == again
    assert made["state"] == "committed" and made["role"] == "payer"
    assert made["quote"]["amount_received"] == 90 and made["quote"]["rounding"] == "floor"
    theirs = await _ok(await client.get(f"{b.base}/{TRANSFERS}/{made['id']}", headers=b.bob_token))
    assert theirs["role"] == "payee" and theirs["member_id"] == b.bob["id"]
    bob = await _ok(await client.get(f"{b.base}/members/{b.bob['id']}", headers=b.treasurer))
    balance = await _ok(
        await client.get(
            f"{b.base}/accounts/{bob['hours_account_id']}/balance", headers=b.treasurer
        )
    )
    assert balance["posted"] == 90
    report = await _ok(
        await client.get(f"{a.base}/{LINKS}/{link_id}/reconciliation", headers=a.treasurer)
    )
    assert report["agrees"] and report["agrees_up_to"] == 1 and report["books_agree"]
    assert report["books"] == {"HOURS": 90} and report["theirs"]["balances"] == {"HOURS": -90}
    for tenant in (a, b):
        feed = await _ok(
            await client.get(
                f"{tenant.base}/events?types=federation.transfer.committed",
                headers=tenant.treasurer,
            )
        )
        assert [e["resource"]["id"] for e in feed["items"]] == [made["id"]]


async def test_members_see_and_pay_only_their_own(client: Client) -> None:
    a, b, link_id = await _linked(client)
    body = _pay(a, b, link_id, 30)
    assert (
        await client.post(f"{a.base}/{TRANSFERS}", json=body, headers=a.bob_token)
    ).status_code == 403
    made = await _ok(
        await client.post(f"{a.base}/{TRANSFERS}", json=body, headers=a.ann_token), 201
    )
    assert (
        await client.get(f"{a.base}/{TRANSFERS}/{made['id']}", headers=a.bob_token)
    ).status_code == 404
    mine = await _ok(await client.get(f"{a.base}/{TRANSFERS}", headers=a.bob_token))
    assert mine["items"] == []
    theirs = await _ok(await client.get(f"{a.base}/{TRANSFERS}", headers=a.ann_token))
    assert [t["id"] for t in theirs["items"]] == [made["id"]]
    other = await make_tenant(client)
    await _problem(
        await client.get(f"{other.base}/{LINKS}/{link_id}", headers=other.treasurer),
        404,
        "link_not_found",
    )
    await _problem(
        await client.get(f"{other.base}/{TRANSFERS}/{made['id']}", headers=other.treasurer),
        404,
        "transfer_not_found",
    )
    foreign = await client.get(f"{a.base}/{LINKS}/{link_id}", headers=other.treasurer)
    assert foreign.status_code == 404  # another community's key sees nothing


async def test_every_refusal_is_a_problem_and_writes_nothing(client: Client) -> None:
    a, b, link_id = await _linked(client, limit=100)
    post = f"{a.base}/{TRANSFERS}"
    cases = [
        (_pay(a, b, link_id, 101), 422, "link_limit_exceeded"),
        ({**_pay(a, b, link_id, 10), "commodity": "EUR"}, 422, "commodity_not_carried"),
        ({**_pay(a, b, link_id, 10), "payee_member_id": a.bob["id"]}, 404, "member_not_found"),
        ({**_pay(a, b, link_id, 10), "link_id": b.bob["id"]}, 404, "link_not_found"),
        ({**_pay(a, b, link_id, 10), "min_received": 11}, 422, "below_minimum_received"),
    ]
    for body, status, code in cases:
        await _problem(await client.post(post, json=body, headers=a.treasurer), status, code)
    over = await client.post(post, json=_pay(a, b, link_id, 101), headers=a.treasurer)
    # In people's words: the partner's name and hours as hours; the integers for programs.
    assert " would owe " in over.json()["detail"]
    assert "1 h 41 min, over the link's limit of 1 h 40 min" in over.json()["detail"]
    assert (over.json()["owed"], over.json()["limit"]) == (101, 100)
    await _ok(await client.post(f"{b.base}/{LINKS}/{link_id}/suspend", headers=b.treasurer))
    await _problem(
        await client.post(post, json=_pay(a, b, link_id, 10), headers=a.treasurer),
        409,
        "link_not_active",
    )
    await _problem(
        await client.post(f"{a.base}/{LINKS}/{link_id}/resume", headers=a.treasurer),
        409,
        "link_status_conflict",
    )
    for tenant in (a, b):
        listed = await _ok(await client.get(f"{tenant.base}/{TRANSFERS}", headers=tenant.treasurer))
        assert listed["items"] == []
    await _ok(await client.post(f"{b.base}/{LINKS}/{link_id}/resume", headers=b.treasurer))
    await _ok(await client.post(post, json=_pay(a, b, link_id, 100), headers=a.treasurer), 201)


async def test_new_terms_are_proposed_and_adopted_by_both(client: Client) -> None:
    a, b, link_id = await _linked(client, limit=600)
    terms = [{"commodity": "HOURS", "partner_commodity": "HOURS",
              "limit_we_owe": 60, "limit_they_owe": 60}]  # fmt: skip
    link = await _ok(
        await client.post(
            f"{b.base}/{LINKS}/{link_id}/versions", json={"terms": terms}, headers=b.treasurer
        ),
        201,
    )
    assert [v["version"] for v in link["versions"]] == [1, 2] and link["version_in_force"] == 1
    # The lower limit holds at once, before either side adopted it.
    await _problem(
        await client.post(
            f"{a.base}/{TRANSFERS}", json=_pay(a, b, link_id, 61), headers=a.treasurer
        ),
        422,
        "link_limit_exceeded",
    )
    await _ok(
        await client.post(f"{b.base}/{LINKS}/{link_id}/versions/2/adopt", headers=b.ann_token)
    )
    adopted = await _ok(
        await client.post(f"{a.base}/{LINKS}/{link_id}/versions/2/adopt", headers=a.ann_token)
    )
    assert adopted["version_in_force"] == 2
    await _problem(
        await client.post(f"{a.base}/{LINKS}/{link_id}/versions/9/adopt", headers=a.ann_token),
        404,
        "link_version_not_found",
    )
    closed = await _ok(await client.post(f"{a.base}/{LINKS}/{link_id}/close", headers=a.treasurer))
    assert closed["status"] == "closed"


async def test_a_transfer_through_a_hub(client: Client) -> None:
    a, hub, link_id = await _linked(client)
    c = await make_tenant(client)
    await _steward(client, c)
    terms = [{"commodity": "HOURS", "partner_commodity": "HOURS",
              "limit_we_owe": 600, "limit_they_owe": 600}]  # fmt: skip
    onward = await _ok(
        await client.post(
            f"{hub.base}/{LINKS}", json={"partner": c.slug, "terms": terms}, headers=hub.treasurer
        ),
        201,
    )
    await _ok(
        await client.post(
            f"{hub.base}/{LINKS}/{onward['id']}/versions/1/adopt", headers=hub.ann_token
        )
    )
    await _ok(await client.post(f"{c.base}/{LINKS}/{onward['id']}/accept", headers=c.ann_token))
    body = {**_pay(a, c, link_id, 45), "destination": c.slug}
    paid = await _ok(
        await client.post(f"{a.base}/{TRANSFERS}", json=body, headers=a.treasurer), 201
    )
    assert paid["state"] == "committed" and paid["destination"] == c.slug
    mine = await _ok(await client.get(f"{c.base}/{TRANSFERS}", headers=c.bob_token))
    assert [t["state"] for t in mine["items"]] == ["committed"]
    assert mine["items"][0]["quote"]["amount_received"] == 45
