"""The export endpoints: streamed text with the right content type and file name, date ranges,
and who may export. Both engines."""

from __future__ import annotations

import csv
import io

from beancount import loader
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_tenant

Client = AsyncTestClient[Litestar]


async def _exchange(client: Client, tenant: Tenant, minutes: int, day: str) -> str:
    body = {
        "debit_account_id": tenant.bob["hours_account_id"],
        "credit_account_id": tenant.ann["hours_account_id"],
        "amount": minutes,
        "effective_date": day,
        "description": f'Help "{minutes}"',
    }
    response = await client.post(f"{tenant.base}/transfers", json=body, headers=tenant.treasurer)
    assert response.status_code == 201, response.text
    entry_id: str = response.json()["id"]
    return entry_id


async def test_each_format_streams_with_its_content_type_and_file_name(
    client: Client, tenant: Tenant
) -> None:
    await _exchange(client, tenant, 90, "2025-03-01")
    for suffix, media_type in (
        ("beancount", "text/plain"),
        ("hledger", "text/plain"),
        ("csv", "text/csv"),
    ):
        async with client.stream(
            "GET", f"{tenant.base}/exports/journal.{suffix}", headers=tenant.treasurer
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].split(";")[0] == media_type
            assert "content-length" not in response.headers  # streamed, not buffered
            disposition = response.headers["content-disposition"]
            assert disposition == f'attachment; filename="{tenant.slug}-journal.{suffix}"'
            body = "".join([chunk async for chunk in response.aiter_text()])
        assert "90" in body


async def test_a_date_range_exports_its_entries_and_asserts_its_end(
    client: Client, tenant: Tenant
) -> None:
    early = await _exchange(client, tenant, 30, "2025-01-15")
    inside = await _exchange(client, tenant, 45, "2025-02-10")
    late = await _exchange(client, tenant, 60, "2025-03-20")
    response = await client.get(
        f"{tenant.base}/exports/journal.csv",
        params={"from": "2025-02-01", "to": "2025-02-28"},
        headers=tenant.treasurer,
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    ids = {row["entry_id"] for row in rows}
    assert inside in ids and early not in ids and late not in ids
    ann = tenant.ann["hours_account_id"]
    # Ann's 30 minutes before the range open it; 45 more inside: 75 credited by the end.
    assert sum(int(r["amount"]) for r in rows if r["account_id"] == ann) == -75
    text = (
        await client.get(
            f"{tenant.base}/exports/journal.beancount",
            params={"from": "2025-02-01", "to": "2025-02-28"},
            headers=tenant.treasurer,
        )
    ).text
    _, errors, _ = loader.load_string(text)
    assert errors == []
    assert "2025-03-01 balance Liabilities:Members:Ann-" in text
    assert " -75 HOURS.MIN\n" in text


async def test_bad_ranges_are_400_with_a_reason(client: Client, tenant: Tenant) -> None:
    for params, reason in (
        ({"from": "2025-03-01", "to": "2025-02-01"}, "is after"),
        ({"to": "9999-12-31"}, "must lie between"),
        ({"from": "0001-01-01"}, "must lie between"),
        ({"from": "yesterday"}, "from"),
    ):
        response = await client.get(
            f"{tenant.base}/exports/journal.hledger", params=params, headers=tenant.treasurer
        )
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert reason in response.text, response.text


async def test_member_tokens_and_other_communities_cannot_export(
    client: Client, tenant: Tenant
) -> None:
    other = await make_tenant(client)
    path = f"{tenant.base}/exports/journal.beancount"
    assert (await client.get(path, headers=tenant.ann_token)).status_code == 403
    assert (await client.get(path, headers=other.treasurer)).status_code == 404
    assert (await client.get(path)).status_code == 401
