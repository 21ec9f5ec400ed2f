"""Problem details in the user's words: amounts in the commodity's own unit, accounts by name, the
raw integers kept in extension members for programs (issue 17)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant

MINUS = "\N{MINUS SIGN}"


async def _account(
    client: AsyncTestClient[Litestar], tenant: Tenant, **fields: Any
) -> dict[str, Any]:
    response = await client.post(f"{tenant.base}/accounts", json=fields, headers=tenant.treasurer)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _transfer(
    client: AsyncTestClient[Litestar],
    tenant: Tenant,
    debit: object,
    credit: object,
    amount: object,
    key: str | None = None,
) -> Any:
    headers = dict(tenant.treasurer)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(
        f"{tenant.base}/transfers",
        json={
            "debit_account_id": debit,
            "credit_account_id": credit,
            "amount": amount,
            "description": "A test transfer",
        },
        headers=headers,
    )


async def test_a_limit_refusal_names_the_account_and_shows_hours_and_minutes(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    # Ann may go 10 h below zero; receiving 10 h 30 min of help would take her to −10 h 30 min.
    ann, bob = tenant.ann["hours_account_id"], tenant.bob["hours_account_id"]
    refused = await _transfer(client, tenant, ann, bob, 630, key="limit-words")
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "limit_exceeded"
    assert body["detail"] == (
        f"Hours of Ann would fall to {MINUS}10 h 30 min, counting pending entries, "
        f"below its limit of {MINUS}10 h"
    )
    # The same facts for programs, in minutes.
    assert body["account_id"] == ann
    assert body["commodity"] == "HOURS"
    assert body["balance_after"] == -630
    assert body["balance_min"] == -600
    replayed = await _transfer(client, tenant, ann, bob, 630, key="limit-words")
    assert replayed.status_code == 422
    assert replayed.content == refused.content


async def test_a_money_limit_shows_the_code_and_decimals(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    eur = await client.post(
        f"{tenant.base}/commodities",
        json={"code": "EUR", "name": "Euro", "scale": 2},
        headers=tenant.treasurer,
    )
    assert eur.status_code == 201, eur.text
    cash = await _account(
        client, tenant, code="cash", name="Cash box", type="asset", commodity="EUR", min_balance=0
    )
    sales = await _account(
        client, tenant, code="sales", name="Sales", type="income", commodity="EUR"
    )
    refused = await _transfer(client, tenant, sales["id"], cash["id"], 1250)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == (
        f"Cash box would fall to EUR {MINUS}12.50, counting pending entries, "
        "below its limit of EUR 0.00"
    )
    assert refused.json()["balance_after"] == -1250


async def test_different_commodities_are_named_as_such(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    eur = await client.post(
        f"{tenant.base}/commodities",
        json={"code": "EUR", "name": "Euro", "scale": 2},
        headers=tenant.treasurer,
    )
    assert eur.status_code == 201, eur.text
    cash = await _account(
        client, tenant, code="cash", name="Cash box", type="asset", commodity="EUR"
    )
    refused = await _transfer(client, tenant, cash["id"], tenant.bob["hours_account_id"], 100)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "unbalanced"
    assert "different commodities" in body["detail"]
    assert "Cash box in Euro" in body["detail"] and "Hours of Bob in Hours" in body["detail"]
    assert "by +100" not in body["detail"]
    assert body["imbalance"] == {"EUR": 100, "HOURS": -100}


async def test_a_transfer_from_an_account_to_itself_is_refused(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    ann = tenant.ann["hours_account_id"]
    refused = await _transfer(client, tenant, ann, ann, 60)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["type"] == "/problems/same-account"
    assert body["code"] == "same_account"
    assert "same account" in body["detail"]
    entries = await client.get(f"{tenant.base}/entries", headers=tenant.treasurer)
    assert entries.json()["items"] == []


async def test_a_float_amount_is_explained_in_smallest_units(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    ann, bob = tenant.ann["hours_account_id"], tenant.bob["hours_account_id"]
    refused = await _transfer(client, tenant, ann, bob, 12.5)
    assert refused.status_code == 400, refused.text
    detail = refused.json()["detail"]
    assert "Expected `int`, got `float`" in detail
    assert "whole numbers in the commodity's smallest unit" in detail
    assert "send 1250 for EUR 12.50" in detail
