"""The cooperative economy over HTTP: template, funds, barter, schedules."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.cli.main import main
from ledger.books.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.api.conftest import ADMIN, Tenant
from tests.databases import sqlite_url

Client = AsyncTestClient[Litestar]


async def _codes(client: Client, tenant: Tenant) -> dict[str, str]:
    found = await client.get(f"{tenant.base}/accounts?limit=500", headers=tenant.treasurer)
    return {a["code"]: a["id"] for a in found.json()["items"]}


async def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def test_a_community_created_with_the_coop_template(client: Client) -> None:
    slug = f"t-{uuid.uuid4().hex[:10]}"
    body = {"slug": slug, "name": "Hilltop", "template": "coop", "currency": "CHF"}
    await _ok(await client.post("/api/v1/communities", json=body, headers=ADMIN))
    base = f"/api/v1/communities/{slug}"
    accounts = await _ok(await client.get(f"{base}/accounts?limit=500", headers=ADMIN), 200)
    by_code = {a["code"]: a for a in accounts["items"]}
    assert by_code["Income:Farm"]["commodity"] == "CHF"
    assert by_code["Equity:HoursPool"]["commodity"] == "HOURS"
    again = await client.post(f"{base}/chart/template", json={"currency": "CHF"}, headers=ADMIN)
    assert (await _ok(again, 200))["opened"] == []
    plain = await client.post(
        "/api/v1/communities", json={"slug": "x-" + slug, "name": "X", "currency": "GBP"},
        headers=ADMIN,
    )  # fmt: skip
    assert plain.status_code == 201
    commodities = await client.get(f"/api/v1/communities/x-{slug}/commodities", headers=ADMIN)
    assert {c["code"] for c in commodities.json()["items"]} == {"HOURS", "GBP"}
    refused = await client.post(
        "/api/v1/communities", json={"slug": "y-" + slug, "name": "Y", "currency": "HOURS"},
        headers=ADMIN,
    )  # fmt: skip
    assert refused.status_code == 422


async def test_funds_over_http(client: Client, tenant: Tenant) -> None:
    t = tenant.treasurer
    await _ok(await client.post(f"{tenant.base}/chart/template", json={}, headers=t), 200)
    codes = await _codes(client, tenant)
    fund = await _ok(
        await client.post(
            f"{tenant.base}/funds",
            json={"name": "Greenhouse grant", "code": "Greenhouse",
                  "held_in_account_id": codes["Assets:Bank"], "purpose": "Greenhouse"},
            headers=t,
        )
    )  # fmt: skip
    assert fund["account_code"] == "Assets:Bank:Greenhouse"
    base = f"{tenant.base}/funds/{fund['id']}"
    income = {"account_id": codes["Income:Grants"], "amount": 50_000, "description": "Grant"}
    await _ok(await client.post(f"{base}/income", json=income, headers=t))
    spend = {"account_id": codes["Expenses:Tools"], "amount": 30_000, "description": "Glass"}
    entry = await _ok(await client.post(f"{base}/spend", json=spend, headers=t))
    assert entry["kind"] == "fund_spend"
    refused = await client.post(f"{base}/spend", json=spend, headers=t)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/limit-exceeded")
    read = await _ok(await client.get(base, headers=tenant.ann_token), 200)
    assert read["balance"]["posted"] == 20_000
    listed = await _ok(await client.get(f"{tenant.base}/funds", headers=t), 200)
    assert [f["id"] for f in listed["items"]] == [fund["id"]]
    missing = await client.get(f"{tenant.base}/funds/{uuid.uuid4()}", headers=t)
    assert missing.status_code == 404


async def test_barter_over_http(client: Client, tenant: Tenant) -> None:
    t = tenant.treasurer
    await client.post(
        f"{tenant.base}/commodities", json={"code": "EGGS", "name": "Eggs", "scale": 0}, headers=t
    )
    body = {
        "description": "Eggs for weeding",
        "sides": [
            {"member_id": tenant.ann["id"], "gives": [
                {"commodity": "EGGS", "quantity": 12, "description": "a dozen eggs"}]},
            {"member_id": tenant.bob["id"], "gives": [
                {"commodity": "HOURS", "quantity": 60, "description": "an hour of weeding"}]},
        ],
    }  # fmt: skip
    barter = await _ok(
        await client.post(f"{tenant.base}/barters", json=body, headers=t | {"Idempotency-Key": "b"})
    )
    replay = await client.post(
        f"{tenant.base}/barters", json=body, headers=t | {"Idempotency-Key": "b"}
    )
    assert replay.json() == barter
    assert barter["sides"][0]["gives"][0]["description"] == "a dozen eggs"
    own = await _ok(await client.get(f"{tenant.base}/barters", headers=tenant.ann_token), 200)
    assert [b["id"] for b in own["items"]] == [barter["id"]]
    community_trade = {
        "description": "Eggs from the community",
        "sides": [
            {"member_id": None, "gives": [
                {"commodity": "EGGS", "quantity": 6, "description": "eggs"}]},
            {"member_id": tenant.bob["id"], "gives": [
                {"commodity": "HOURS", "quantity": 30, "description": "help"}]},
        ],
    }  # fmt: skip
    other = await _ok(await client.post(f"{tenant.base}/barters", json=community_trade, headers=t))
    hidden = await client.get(f"{tenant.base}/barters/{other['id']}", headers=tenant.ann_token)
    assert hidden.status_code == 404
    own = await _ok(await client.get(f"{tenant.base}/barters", headers=tenant.ann_token), 200)
    assert [b["id"] for b in own["items"]] == [barter["id"]]
    # The event feed: the treasurer sees both trades, Ann only the one she took part in.
    feeds = [
        await _ok(await client.get(f"{tenant.base}/events?types=barter.recorded", headers=who), 200)
        for who in (t, tenant.ann_token)
    ]
    seen = [[e["resource"]["id"] for e in feed["items"]] for feed in feeds]
    assert seen == [[barter["id"], other["id"]], [barter["id"]]]
    unknown = dict(body, sides=[body["sides"][0], {"member_id": tenant.bob["id"], "gives": [
        {"commodity": "MILK", "quantity": 1, "description": "milk"}]}])  # fmt: skip
    refused = await client.post(f"{tenant.base}/barters", json=unknown, headers=t)
    assert refused.status_code == 404
    assert refused.json()["type"].endswith("/commodity-not-found")


async def test_schedules_over_http(client: Client, tenant: Tenant) -> None:
    t = tenant.treasurer
    await _ok(await client.post(f"{tenant.base}/chart/template", json={}, headers=t), 200)
    codes = await _codes(client, tenant)
    body = {
        "description": "Monthly dues",
        "debit_account_id": codes["Assets:Bank"],
        "credit_account_id": codes["Income:Dues"],
        "amount": 2_500,
        "frequency": "monthly",
        "start_date": "2026-01-15",
    }
    schedule = await _ok(await client.post(f"{tenant.base}/schedules", json=body, headers=t))
    assert (schedule["status"], schedule["next_period"]) == ("active", "2026-01-15")
    base = f"{tenant.base}/schedules/{schedule['id']}"
    paused = await _ok(await client.post(f"{base}/pause", headers=t), 200)
    assert paused["status"] == "paused"
    again = await client.post(f"{base}/pause", headers=t)
    assert again.status_code == 409 and again.json()["type"].endswith("/schedule-not-active")
    await _ok(await client.post(f"{base}/resume", headers=t), 200)
    ended = await _ok(await client.post(f"{base}/end", headers=t), 200)
    assert ended["status"] == "ended"
    occurrences = await _ok(await client.get(f"{base}/occurrences", headers=t), 200)
    assert occurrences == {"items": [], "next_cursor": None}
    listed = await _ok(await client.get(f"{tenant.base}/schedules", headers=t), 200)
    assert [s["id"] for s in listed["items"]] == [schedule["id"]]
    assert (await client.get(base, headers=tenant.ann_token)).status_code == 403


def test_the_cli_creates_a_community_with_a_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path / "cli.db")
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", url)
    assert main(["create-community", "hilltop", "Hilltop", "--template", "coop"]) == 0
    assert "accounts opened" in capsys.readouterr().out
    assert main(["create-community", "hilltop", "Again", "--template", "coop"]) == 1

    async def codes() -> set[str]:
        engine = create_engine(url)
        try:
            ledger = Ledger(SqlUnitOfWorkFactory(engine))
            community = await ledger.get_community_by_slug("hilltop")
            return {a.code for a in await ledger.list_accounts(community.id)}
        finally:
            await engine.dispose()

    assert "Income:Farm" in asyncio.run(codes())


async def test_account_groups_roll_up(client: Client, tenant: Tenant) -> None:
    t = tenant.treasurer
    await _ok(await client.post(f"{tenant.base}/chart/template", json={}, headers=t), 200)
    eggs = {"code": "Income:Farm:Eggs", "name": "Eggs", "type": "income", "commodity": "EUR"}
    await _ok(await client.post(f"{tenant.base}/accounts", json=eggs, headers=t))
    codes = await _codes(client, tenant)
    for credit, amount in (("Income:Farm", 1_000), ("Income:Farm:Eggs", 250)):
        body = {"debit_account_id": codes["Assets:Bank"], "credit_account_id": codes[credit],
                "amount": amount, "description": "Sales"}  # fmt: skip
        await _ok(await client.post(f"{tenant.base}/transfers", json=body, headers=t))
    groups = await _ok(await client.get(f"{tenant.base}/account-groups", headers=t), 200)
    by_group = {(g["group"], g["commodity"]): g for g in groups["items"]}
    farm = by_group["Income:Farm", "EUR"]
    assert (farm["accounts"], farm["posted"]) == (2, 1_250)
    assert all(not g["group"].startswith("member:") for g in groups["items"])
    top = await _ok(
        await client.get(f"{tenant.base}/account-groups?depth=1&limit=2", headers=t), 200
    )
    assert [g["group"] for g in top["items"]] == ["Assets", "Equity"]
    rest = await client.get(
        f"{tenant.base}/account-groups?depth=1&cursor={top['next_cursor']}", headers=t
    )
    # Equity:HoursPool, in HOURS, is the second Equity group.
    first = rest.json()["items"][0]
    assert (first["group"], first["commodity"]) == ("Equity", "HOURS")
    assert (
        await client.get(f"{tenant.base}/account-groups", headers=tenant.ann_token)
    ).status_code == 403
