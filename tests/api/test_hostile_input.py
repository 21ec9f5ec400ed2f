"""Hostile request bodies are 400s with one log line, never a 500 with a traceback
(issue 18: M5 deep JSON, any Content-Type read as JSON). Both engines."""

from __future__ import annotations

import json

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.http.common.pagination import encode_cursor
from tests.api.conftest import Tenant
from tests.api.test_exchanges import exchange_body

Client = AsyncTestClient[Litestar]


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [600, 100_000])
async def test_deep_json_in_metadata_is_a_400_and_one_log_line(
    client: Client, tenant: Tenant, capsys: pytest.CaptureFixture[str], depth: int
) -> None:
    body = json.dumps(exchange_body(tenant)).replace('"metadata_slot"', "")
    text = body[:-1] + ', "metadata": {"k": ' + _deep(depth) + "}}"
    capsys.readouterr()
    response = await client.post(
        f"{tenant.base}/exchanges",
        content=text.encode(),
        headers=tenant.ann_token | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_request"
    logged = capsys.readouterr().err
    assert "Traceback" not in logged
    assert len([line for line in logged.splitlines() if "/exchanges" in line]) == 1


async def test_deep_json_as_the_whole_body_is_a_400(client: Client, tenant: Tenant) -> None:
    nul_inside = "[" * 200_000 + '"\\u0000"' + "]" * 200_000  # walked as plain JSON
    for body in (_deep(200_000), nul_inside):
        response = await client.post(
            f"{tenant.base}/transfers",
            content=body.encode(),
            headers=tenant.treasurer | {"Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
async def test_a_body_that_is_not_declared_json_is_a_415(
    client: Client, tenant: Tenant, content_type: str | None
) -> None:
    headers = dict(tenant.ann_token)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.post(
        f"{tenant.base}/exchanges",
        content=json.dumps(exchange_body(tenant)).encode(),
        headers=headers,
    )
    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"],
)
async def test_json_media_types_are_read(client: Client, tenant: Tenant, content_type: str) -> None:
    response = await client.post(
        f"{tenant.base}/exchanges",
        content=json.dumps(exchange_body(tenant)).encode(),
        headers=tenant.ann_token | {"Content-Type": content_type},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "position", [[2**63, 0], [0, 2**63], [-(2**63) - 1, 0], [2**64, 2**64], [10**30, 1]]
)
async def test_an_events_cursor_past_64_bits_is_a_400(
    client: Client, tenant: Tenant, position: list[int]
) -> None:
    cursor = encode_cursor(position)
    for parameter in ("cursor", "after"):
        response = await client.get(
            f"{tenant.base}/events", params={parameter: cursor}, headers=tenant.treasurer
        )
        assert response.status_code == 400, response.text
    largest = encode_cursor([2**63 - 1, 2**63 - 1])
    response = await client.get(
        f"{tenant.base}/events", params={"cursor": largest}, headers=tenant.treasurer
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "3000-01-01", "1899-12-31"])
async def test_effective_dates_far_from_now_are_refused_on_every_write(
    client: Client, tenant: Tenant, day: str
) -> None:
    transfer = {
        "debit_account_id": tenant.bob["hours_account_id"],
        "credit_account_id": tenant.ann["hours_account_id"],
        "amount": 5,
        "description": "Far",
        "effective_date": day,
    }
    entry = {
        "description": "Far",
        "effective_date": day,
        "postings": [
            {"account_id": tenant.bob["hours_account_id"], "amount": 5},
            {"account_id": tenant.ann["hours_account_id"], "amount": -5},
        ],
    }
    for path, body, headers in (
        ("transfers", transfer, tenant.treasurer),
        ("entries", entry, tenant.treasurer),
    ):
        response = await client.post(f"{tenant.base}/{path}", json=body, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert "effective_date" in response.json()["detail"]
    export = await client.get(f"{tenant.base}/exports/journal.beancount", headers=tenant.treasurer)
    assert export.status_code == 200


async def test_a_missing_body_is_a_400_whatever_its_type(client: Client, tenant: Tenant) -> None:
    for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/json"}):
        response = await client.post(
            f"{tenant.base}/exchanges", content=b"", headers=tenant.ann_token | headers
        )
        assert response.status_code == 400, response.text
