"""Who may issue a member token, and what a token issued by someone else may do (issue 18, H1).

A consent or an approval is a person's: a token issued by the operator or by the member
themselves acts in governance; a token issued by anyone else (a treasurer's key or member token)
acts as that member on their own resources only, never in a governance role.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, Tenant, bearer

Client = AsyncTestClient[Litestar]


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _token(client: Client, tenant: Tenant, member_id: object, issuer: dict[str, str]) -> Any:
    return await client.post(f"{tenant.base}/members/{member_id}/tokens", json={}, headers=issuer)


async def _steward(client: Client, tenant: Tenant, name: str) -> tuple[str, dict[str, str]]:
    """A new member, made a steward by the operator, with a token the operator issued."""
    member = await _ok(
        await client.post(f"{tenant.base}/members", json={"name": name}, headers=tenant.treasurer),
        201,
    )
    role = {"member_id": member["id"], "role": "steward"}
    await _ok(await client.post(f"{tenant.base}/roles", json=role, headers=ADMIN), 201)
    token = await _ok(await _token(client, tenant, member["id"], ADMIN), 201)
    return member["id"], bearer(token["token"])


async def _fund_request(client: Client, tenant: Tenant) -> str:
    """A pending disbursement of a configured, funded emergency fund, requested by the
    treasurer key."""
    base, treasurer = tenant.base, tenant.treasurer
    await client.post(
        f"{base}/commodities", json={"code": "EUR", "name": "Euro", "scale": 2}, headers=treasurer
    )
    ids = {}
    for code, kind in (
        ("Assets:Bank", "asset"),
        ("Assets:Fund", "asset"),
        ("Expenses:X", "expense"),
    ):
        body = {"code": code, "name": code, "type": kind, "commodity": "EUR"}
        ids[code] = (
            await _ok(await client.post(f"{base}/accounts", json=body, headers=treasurer), 201)
        )["id"]
    settings = {"fund_account_id": ids["Assets:Fund"], "approvals_required": 2}
    await _ok(await client.put(f"{base}/governance", json=settings, headers=ADMIN))
    move = {
        "debit_account_id": ids["Assets:Fund"],
        "credit_account_id": ids["Assets:Bank"],
        "amount": 5_000,
        "description": "Into the fund",
    }
    await _ok(await client.post(f"{base}/transfers", json=move, headers=treasurer), 201)
    ask = {"payee_account_id": ids["Expenses:X"], "amount": 1_000, "reason": "Roof"}
    request = await client.post(f"{base}/emergency-fund/disbursements", json=ask, headers=treasurer)
    return str((await _ok(request, 201))["id"])


async def test_a_treasurer_cannot_issue_tokens_of_stewards_or_treasurers(
    client: Client, tenant: Tenant
) -> None:
    steward_id, _ = await _steward(client, tenant, "Steward")
    role = {"member_id": tenant.bob["id"], "role": "treasurer"}
    await _ok(await client.post(f"{tenant.base}/roles", json=role, headers=ADMIN), 201)
    for member_id in (steward_id, tenant.bob["id"]):
        refused = await _token(client, tenant, member_id, tenant.treasurer)
        assert (refused.status_code, refused.json()["code"]) == (403, "role_holder_token"), (
            member_id
        )
    # Bob, now a treasurer, cannot issue one for the steward either.
    refused = await _token(client, tenant, steward_id, tenant.bob_token)
    assert (refused.status_code, refused.json()["code"]) == (403, "role_holder_token")
    assert (await _token(client, tenant, steward_id, ADMIN)).status_code == 201


async def test_the_probe_a_treasurer_key_approves_through_stewards_is_refused(
    client: Client, tenant: Tenant
) -> None:
    """The probe's path: mint tokens of the stewards, then approve with them."""
    disbursement = await _fund_request(client, tenant)
    stewards = [await _steward(client, tenant, name) for name in ("S1", "S2")]
    approve = f"{tenant.base}/emergency-fund/disbursements/{disbursement}/approve"
    for steward_id, _ in stewards:
        assert (await _token(client, tenant, steward_id, tenant.treasurer)).status_code == 403
    # The stewards' own tokens approve.
    for _, token in stewards:
        await _ok(await client.post(approve, json={}, headers=token))
    fund = await _ok(
        await client.get(
            f"{tenant.base}/emergency-fund/disbursements/{disbursement}", headers=ADMIN
        )
    )
    assert fund["status"] == "approved"


async def test_a_token_issued_by_another_never_acts_in_a_governance_role(
    client: Client, tenant: Tenant
) -> None:
    """A token the treasurer key issued Ann before she became a steward acts as Ann, but
    consents and approvals need a token of her own."""
    disbursement = await _fund_request(client, tenant)
    by_key = await _ok(await _token(client, tenant, tenant.ann["id"], tenant.treasurer), 201)
    assert by_key["personal"] is False
    ann = bearer(by_key["token"])
    role = {"member_id": tenant.ann["id"], "role": "steward"}
    await _ok(await client.post(f"{tenant.base}/roles", json=role, headers=ADMIN), 201)
    approve = f"{tenant.base}/emergency-fund/disbursements/{disbursement}/approve"
    assert (await client.post(approve, json={}, headers=ann)).status_code == 403
    # Nor can she launder it into one of her own.
    refused = await _token(client, tenant, tenant.ann["id"], ann)
    assert (refused.status_code, refused.json()["code"]) == (403, "role_holder_token")
    # A token from the operator acts as the steward; one she issues with it does too.
    personal = bearer(
        (await _ok(await _token(client, tenant, tenant.ann["id"], ADMIN), 201))["token"]
    )
    second = await _ok(await _token(client, tenant, tenant.ann["id"], personal), 201)
    await _ok(await client.post(approve, json={}, headers=bearer(second["token"])))


async def test_a_member_issues_tokens_for_themselves_only(client: Client, tenant: Tenant) -> None:
    by_key = await _ok(await _token(client, tenant, tenant.ann["id"], tenant.treasurer), 201)
    ann = bearer(by_key["token"])
    own = await _ok(await _token(client, tenant, tenant.ann["id"], ann), 201)
    assert own["member_id"] == tenant.ann["id"]
    assert own["issued_by"] == {"kind": "member", "credential_id": by_key["id"]}
    assert own["personal"] is False
    refused = await _token(client, tenant, tenant.bob["id"], ann)
    assert refused.status_code == 404
    by_operator = await _ok(await _token(client, tenant, tenant.ann["id"], ADMIN), 201)
    assert by_operator["issued_by"] == {"kind": "operator", "credential_id": None}
    assert by_operator["personal"] is True
    # A token a member issues with a personal token is personal too, and names its issuer.
    mine = await _token(client, tenant, tenant.ann["id"], bearer(by_operator["token"]))
    assert (await _ok(mine, 201))["issued_by"] == {
        "kind": "member",
        "credential_id": by_operator["id"],
    }
    assert (await _ok(mine, 201))["personal"] is True
    by_key = await _ok(await _token(client, tenant, tenant.bob["id"], tenant.treasurer), 201)
    assert by_key["issued_by"]["kind"] == "api_key"
