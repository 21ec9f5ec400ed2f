"""The emergency fund's money leaves only through approved disbursements (issue 18, M1).

Designating an account as the fund guards it: no transfer, reversal or batch may lower it, its
floor is at least 0 and counts what pending requests reserve, and no change of limits removes it.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, Tenant

Client = AsyncTestClient[Litestar]


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _fund(client: Client, tenant: Tenant) -> dict[str, str]:
    """Bank, Fund (designated, holding 5,000 moved in by a transfer) and Repairs: the fund
    account opened without a floor, as the demo's was."""
    base, treasurer = tenant.base, tenant.treasurer
    euro = {"code": "EUR", "name": "Euro", "scale": 2}
    await client.post(f"{base}/commodities", json=euro, headers=treasurer)
    ids = {}
    for code, kind in (
        ("Bank", "asset"),
        ("Fund", "asset"),
        ("Fund2", "asset"),
        ("Repairs", "expense"),
    ):
        body = {"code": code, "name": code, "type": kind, "commodity": "EUR"}
        account = await client.post(f"{base}/accounts", json=body, headers=treasurer)
        ids[code] = (await _ok(account, 201))["id"]
    settings = {"fund_account_id": ids["Fund"], "approvals_required": 1}
    await _ok(await client.put(f"{base}/governance", json=settings, headers=ADMIN))
    ids["deposit"] = (await _ok(await _move(client, tenant, ids["Fund"], ids["Bank"], 5_000), 201))[
        "id"
    ]
    return ids


async def _move(client: Client, tenant: Tenant, debit: str, credit: str, amount: int) -> Any:
    body = {
        "debit_account_id": debit,
        "credit_account_id": credit,
        "amount": amount,
        "description": "move",
    }
    return await client.post(f"{tenant.base}/transfers", json=body, headers=tenant.treasurer)


def _refused(response: Any, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


async def test_no_transfer_reversal_or_batch_takes_money_out_of_the_fund(
    client: Client, tenant: Tenant
) -> None:
    ids = await _fund(client, tenant)
    base = tenant.base
    _refused(await _move(client, tenant, ids["Repairs"], ids["Fund"], 100), 409, "account_guarded")
    reverse = await client.post(
        f"{base}/entries/{ids['deposit']}/reverse", json={}, headers=tenant.treasurer
    )
    _refused(reverse, 409, "account_guarded")
    entry = {
        "description": "around the fund",
        "postings": [
            {"account_id": ids["Repairs"], "amount": 100},
            {"account_id": ids["Fund"], "amount": -100},
        ],
    }
    _refused(
        await client.post(f"{base}/entries", json=entry, headers=tenant.treasurer),
        409,
        "account_guarded",
    )
    item = {
        "debit_account_id": ids["Repairs"],
        "credit_account_id": ids["Fund"],
        "amount": 100,
        "description": "batched",
        "idempotency_key": "k1",
    }
    batch = await client.post(
        f"{base}/transfers:batch", json={"items": [item]}, headers=tenant.treasurer
    )
    assert batch.status_code == 207, batch.text
    assert batch.json()["items"][0]["problem"]["code"] == "account_guarded"
    fund = await _ok(await client.get(f"{base}/emergency-fund", headers=ADMIN))
    assert (fund["posted"], fund["available"]) == (5_000, 5_000)
    # Money still comes in, and leaves by an approved disbursement.
    await _ok(await _move(client, tenant, ids["Fund"], ids["Bank"], 1_000), 201)


async def test_the_fund_floor_is_set_counts_reservations_and_stays(
    client: Client, tenant: Tenant
) -> None:
    ids = await _fund(client, tenant)
    base = tenant.base
    account = await _ok(await client.get(f"{base}/accounts/{ids['Fund']}", headers=ADMIN))
    assert account["min_balance"] == 0
    for floor in (None, -1):
        _refused(
            await client.patch(
                f"{base}/accounts/{ids['Fund']}", json={"min_balance": floor}, headers=ADMIN
            ),
            422,
            "invalid_input",
        )
    ask = {"payee_account_id": ids["Repairs"], "amount": 5_000, "reason": "Roof"}
    path = f"{base}/emergency-fund/disbursements"
    await _ok(await client.post(path, json=ask, headers=tenant.treasurer), 201)
    _refused(
        await client.post(path, json=dict(ask, amount=1), headers=tenant.treasurer),
        422,
        "limit_exceeded",
    )
    # A floor above 0 is the fund's to keep too; raising it is allowed.
    raised = {"min_balance": 0, "name": "Emergency fund"}
    await _ok(await client.patch(f"{base}/accounts/{ids['Fund']}", json=raised, headers=ADMIN))


async def test_a_former_fund_account_is_released(client: Client, tenant: Tenant) -> None:
    ids = await _fund(client, tenant)
    await _ok(await _move(client, tenant, ids["Fund2"], ids["Bank"], 100), 201)
    settings = {"fund_account_id": ids["Fund2"], "approvals_required": 1}
    await _ok(await client.put(f"{tenant.base}/governance", json=settings, headers=ADMIN))
    await _ok(await _move(client, tenant, ids["Repairs"], ids["Fund"], 100), 201)
    _refused(await _move(client, tenant, ids["Repairs"], ids["Fund2"], 1), 409, "account_guarded")
    # A fund account that holds less than nothing cannot be designated: its floor would not hold.
    settings = {"fund_account_id": ids["Bank"], "approvals_required": 1}
    _refused(
        await client.put(f"{tenant.base}/governance", json=settings, headers=ADMIN),
        409,
        "limits_violated_by_balance",
    )
