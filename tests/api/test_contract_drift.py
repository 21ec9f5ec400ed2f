"""Where the service had drifted from /work/shared/CONTRACT.md (issue 18): a journal entry carries
its ``community``; a transfer needs its ``description``; the OpenAPI document states the
postings' minimum that the service enforces."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant

Client = AsyncTestClient[Litestar]


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _move(tenant: Tenant, **change: object) -> dict[str, object]:
    body = {
        "debit_account_id": tenant.ann["hours_account_id"],
        "credit_account_id": tenant.bob["hours_account_id"],
        "amount": 30,
        "description": "Soup for the class",
    }
    return {**body, **change}


async def test_an_entry_names_its_community(client: Client, tenant: Tenant) -> None:
    base, treasurer = tenant.base, tenant.treasurer
    entry = await _ok(
        await client.post(f"{base}/transfers", json=_move(tenant), headers=treasurer), 201
    )
    assert entry["community"] == tenant.slug
    read = await _ok(await client.get(f"{base}/entries/{entry['id']}", headers=treasurer))
    listed = await _ok(await client.get(f"{base}/entries", headers=treasurer))
    assert read["community"] == tenant.slug
    assert {e["community"] for e in listed["items"]} == {tenant.slug}


async def test_a_transfer_needs_a_description(client: Client, tenant: Tenant) -> None:
    base, treasurer = tenant.base, tenant.treasurer
    without = {k: v for k, v in _move(tenant).items() if k != "description"}
    for body in (without, _move(tenant, description="")):
        refused = await client.post(f"{base}/transfers", json=body, headers=treasurer)
        assert refused.status_code == 400, refused.text
    item = {**without, "idempotency_key": "k"}
    batch = await client.post(f"{base}/transfers:batch", json={"items": [item]}, headers=treasurer)
    assert batch.status_code == 400, batch.text


async def test_the_schema_states_what_is_enforced(client: Client, tenant: Tenant) -> None:
    document = await _ok(await client.get("/schema/openapi.json"))
    schemas = document["components"]["schemas"]
    entry_in = next(s for name, s in schemas.items() if name.endswith("EntryCreate"))
    assert entry_in["properties"]["postings"]["minItems"] == 2
    transfer_in = schemas["TransferCreate"]
    assert "description" in transfer_in["required"]
    assert transfer_in["properties"]["description"]["minLength"] == 1
    one = {"postings": [{"account_id": tenant.ann["hours_account_id"], "amount": 0}]}
    response = await client.post(f"{tenant.base}/entries", json=one, headers=tenant.treasurer)
    assert response.status_code == 400, response.text
