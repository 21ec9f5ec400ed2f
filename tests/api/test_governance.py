"""Governance through HTTP: a member's token gains and loses powers with its terms; budgets are
adopted by stewards' consents; the emergency fund spends only on stewards' approvals."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, Tenant, bearer

Client = AsyncTestClient[Litestar]


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _member(client: Client, tenant: Tenant, name: str) -> tuple[str, dict[str, str]]:
    member = await _ok(
        await client.post(f"{tenant.base}/members", json={"name": name}, headers=tenant.treasurer),
        201,
    )
    token = await _ok(
        await client.post(f"{tenant.base}/members/{member['id']}/tokens", json={}, headers=ADMIN),
        201,
    )
    return member["id"], bearer(token["token"])


async def _accounts(client: Client, tenant: Tenant) -> dict[str, str]:
    await client.post(
        f"{tenant.base}/commodities",
        json={"code": "EUR", "name": "Euro", "scale": 2},
        headers=tenant.treasurer,
    )
    ids = {}
    for code, kind in (
        ("Assets:Bank", "asset"),
        ("Assets:EmergencyFund", "asset"),
        ("Expenses:Repairs", "expense"),
    ):
        body = {"code": code, "name": code, "type": kind, "commodity": "EUR"}
        account = await client.post(f"{tenant.base}/accounts", json=body, headers=tenant.treasurer)
        ids[code] = (await _ok(account, 201))["id"]
    return ids


async def test_a_treasurer_term_gives_a_member_token_the_treasurer_scope(
    client: Client, tenant: Tenant
) -> None:
    base, ann = tenant.base, tenant.ann_token
    assert (await client.get(f"{base}/trial-balance", headers=ann)).status_code == 403
    role = {"member_id": tenant.ann["id"], "role": "treasurer"}
    assert (
        await client.post(f"{base}/roles", json=role, headers=tenant.treasurer)
    ).status_code == 403
    term = await _ok(await client.post(f"{base}/roles", json=role, headers=ADMIN), 201)
    assert term["current"] is True
    assert (await client.get(f"{base}/trial-balance", headers=ann)).status_code == 200
    # A treasurer in office hands roles on.
    steward = {"member_id": tenant.bob["id"], "role": "steward"}
    await _ok(await client.post(f"{base}/roles", json=steward, headers=ann), 201)
    ended = await _ok(await client.post(f"{base}/roles/{term['id']}/end", headers=ann))
    assert ended["current"] is False and ended["ended_at"] is not None
    assert (await client.get(f"{base}/trial-balance", headers=ann)).status_code == 403
    assert (await client.post(f"{base}/roles", json=steward, headers=ann)).status_code == 403
    history = await _ok(await client.get(f"{base}/roles", headers=ann))
    assert [t["role"] for t in history["items"]] == ["treasurer", "steward"]
    current = await _ok(await client.get(f"{base}/roles?current=true", headers=ann))
    assert [t["member_id"] for t in current["items"]] == [tenant.bob["id"]]


async def test_budget_consents_and_disbursement_approvals(client: Client, tenant: Tenant) -> None:
    base, treasurer = tenant.base, tenant.treasurer
    accounts = await _accounts(client, tenant)
    cy_id, cy = await _member(client, tenant, "Cy")
    for member_id in (tenant.bob["id"], cy_id):
        role = {"member_id": member_id, "role": "steward"}
        await _ok(await client.post(f"{base}/roles", json=role, headers=ADMIN), 201)
    settings = {"fund_account_id": accounts["Assets:EmergencyFund"], "approvals_required": 1}
    await _ok(await client.put(f"{base}/governance", json=settings, headers=ADMIN))
    # A budget: drafted by the treasurer, adopted when both stewards consent.
    budget_body = {
        "name": "Q4",
        "period": "2026-Q4",
        "lines": [{"account_group": "Expenses", "commodity": "EUR", "amount": 100_000}],
    }
    budget = await _ok(
        await client.post(f"{base}/budgets", json=budget_body, headers=treasurer), 201
    )
    consents = f"{base}/budgets/{budget['id']}/consents"
    first = await _ok(await client.post(consents, json={"comment": "ok"}, headers=tenant.bob_token))
    assert first["status"] == "draft"
    for caller in (tenant.ann_token, treasurer):
        assert (await client.post(consents, json={}, headers=caller)).status_code == 403
    adopted = await _ok(await client.post(consents, json={}, headers=cy))
    assert (adopted["status"], len(adopted["consents"])) == ("adopted", 2)
    actual = await _ok(await client.get(f"{base}/budgets/{budget['id']}/actual", headers=cy))
    assert actual["lines"][0]["planned"] == 100_000
    # The fund: money in by an ordinary transfer, out only on a steward's approval.
    move = {
        "debit_account_id": accounts["Assets:EmergencyFund"],
        "credit_account_id": accounts["Assets:Bank"],
        "amount": 50_000,
        "description": "Into the fund",
    }
    await _ok(await client.post(f"{base}/transfers", json=move, headers=treasurer), 201)
    ask = {"payee_account_id": accounts["Expenses:Repairs"], "amount": 20_000, "reason": "Roof"}
    request = await _ok(
        await client.post(
            f"{base}/emergency-fund/disbursements", json=ask, headers=tenant.bob_token
        ),
        201,
    )
    approve = f"{base}/emergency-fund/disbursements/{request['id']}/approve"
    refused = await client.post(approve, json={}, headers=tenant.bob_token)
    assert (refused.status_code, refused.json()["code"]) == (403, "self_approval")
    done = await _ok(await client.post(approve, json={"comment": "go"}, headers=cy))
    assert (done["status"], done["approvals"]) == ("approved", [cy_id])
    fund = await _ok(await client.get(f"{base}/emergency-fund", headers=tenant.ann_token))
    assert (fund["posted"], fund["available"]) == (30_000, 30_000)
    over = dict(ask, amount=30_001)
    refused = await client.post(
        f"{base}/emergency-fund/disbursements", json=over, headers=treasurer
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "limit_exceeded")
    # Each step reached the event feed, in order, with the write that made it.
    wanted = "budget.created,budget.adopted,disbursement.requested,disbursement.approved"
    feed = await _ok(await client.get(f"{base}/events?types={wanted}", headers=treasurer))
    assert [(e["type"], e["resource"]["id"]) for e in feed["items"]] == [
        ("budget.created", budget["id"]),
        ("budget.adopted", budget["id"]),
        ("disbursement.requested", request["id"]),
        ("disbursement.approved", request["id"]),
    ]


async def test_a_steward_confirms_any_exchange(client: Client, tenant: Tenant) -> None:
    base = tenant.base
    cy_id, cy = await _member(client, tenant, "Cy")
    body = {
        "provider_member_id": tenant.bob["id"],
        "receiver_member_id": tenant.ann["id"],
        "minutes": 30,
        "description": "Soup",
    }
    exchange = await _ok(
        await client.post(f"{base}/exchanges", json=body, headers=tenant.treasurer), 201
    )
    confirm = f"{base}/exchanges/{exchange['id']}/confirm"
    assert (await client.post(confirm, headers=cy)).status_code == 404
    role = {"member_id": cy_id, "role": "steward"}
    await _ok(await client.post(f"{base}/roles", json=role, headers=ADMIN), 201)
    assert (await _ok(await client.post(confirm, headers=cy)))["status"] == "confirmed"


async def test_settings_refuse_what_the_schema_cannot_state(client: Client, tenant: Tenant) -> None:
    path = f"{tenant.base}/governance"
    for body in (
        {"fund_target": -1},
        {"fund_target": 1, "fund_target_months": 3},
        {"consent_rule": "quorum"},
        {"consent_quorum": 2},
    ):
        response = await client.put(path, json=body, headers=ADMIN)
        assert (response.status_code, response.json()["code"]) == (422, "invalid_input"), body
    assert (await client.put(path, json={}, headers=tenant.treasurer)).status_code == 403
    default = await _ok(await client.get(path, headers=tenant.ann_token))
    assert (default["consent_rule"], default["approvals_required"]) == ("consensus", 2)
