"""Closing an account (issue 18, "Also"): only with nothing in it, and nothing new is set up on
a closed account — no schedule, monitor or fund."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant

Client = AsyncTestClient[Litestar]


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _refused(response: Any, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


async def _accounts(client: Client, tenant: Tenant, *codes: str) -> list[str]:
    ids = []
    for code in codes:
        body = {"code": code, "name": code, "type": "asset", "commodity": "HOURS"}
        account = await client.post(f"{tenant.base}/accounts", json=body, headers=tenant.treasurer)
        ids.append((await _ok(account, 201))["id"])
    return ids


async def test_an_account_with_a_balance_cannot_be_closed(client: Client, tenant: Tenant) -> None:
    full, other = await _accounts(client, tenant, "Assets:Full", "Assets:Other")
    move = {
        "debit_account_id": full,
        "credit_account_id": other,
        "amount": 30,
        "description": "in",
    }
    await _ok(
        await client.post(f"{tenant.base}/transfers", json=move, headers=tenant.treasurer), 201
    )
    close = {"closed": True}
    for account in (full, other):
        _refused(
            await client.patch(
                f"{tenant.base}/accounts/{account}", json=close, headers=tenant.treasurer
            ),
            409,
            "account_has_balance",
        )
    back = dict(move, debit_account_id=other, credit_account_id=full, description="out")
    await _ok(
        await client.post(f"{tenant.base}/transfers", json=back, headers=tenant.treasurer), 201
    )
    closed = await client.patch(
        f"{tenant.base}/accounts/{full}", json=close, headers=tenant.treasurer
    )
    assert (await _ok(closed))["closed"] is True


async def test_nothing_is_set_up_on_a_closed_account(client: Client, tenant: Tenant) -> None:
    base, treasurer = tenant.base, tenant.treasurer
    closed, open_ = await _accounts(client, tenant, "Assets:Closed", "Assets:Open")
    await _ok(
        await client.patch(f"{base}/accounts/{closed}", json={"closed": True}, headers=treasurer)
    )
    schedule = {
        "description": "Monthly",
        "debit_account_id": open_,
        "credit_account_id": closed,
        "amount": 10,
        "frequency": "monthly",
        "start_date": "2027-01-15",
    }
    _refused(
        await client.post(f"{base}/schedules", json=schedule, headers=treasurer),
        409,
        "account_closed",
    )
    monitor = {"account_id": closed, "direction": "below", "threshold": 0, "description": "low"}
    _refused(
        await client.post(f"{base}/monitors", json=monitor, headers=treasurer),
        409,
        "account_closed",
    )
    fund = {"name": "Grant", "code": "Grant", "held_in_account_id": closed}
    _refused(
        await client.post(f"{base}/funds", json=fund, headers=treasurer), 409, "account_closed"
    )
    # The same on the open account is accepted.
    await _ok(
        await client.post(
            f"{base}/monitors", json=dict(monitor, account_id=open_), headers=treasurer
        ),
        201,
    )
