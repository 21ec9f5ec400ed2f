"""Concurrent ``POST …/transfers`` to the real service (``commons-ledger serve``), on SQLite and
PostgreSQL: the requests of a burst are written in groups (``ledger.books.group_commit``), and each
still answers what it would alone — replays under a key, conflicts, limits — with one event per
entry written."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN, Tenant, bearer, make_tenant
from tests.api.test_metrics import parse_samples, sample_value
from tests.faults.locks import holding_account
from tests.faults.server import Server, start_server


def body(tenant: Tenant, minutes: int, *, reverse: bool = False) -> dict[str, Any]:
    debit, credit = (tenant.bob, tenant.ann) if reverse else (tenant.ann, tenant.bob)
    return {
        "debit_account_id": debit["hours_account_id"],
        "credit_account_id": credit["hours_account_id"],
        "amount": minutes,
        "description": "Help",
    }


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    server = start_server(database_url, tmp_path / "server.log")
    try:
        yield server
    finally:
        server.stop()


async def test_a_burst_of_transfers_answers_each_as_alone(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        await _burst(client, await make_tenant(client))  # type: ignore[arg-type]
        metrics = (await client.get("/metrics")).text
    # The burst was written in groups: fewer groups than single writes.
    samples = parse_samples(metrics)
    count = sample_value(samples, "commons_ledger_write_group_size_count")
    total = sample_value(samples, "commons_ledger_write_group_size_sum")
    assert total >= 22 and count < total


async def _burst(client: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/transfers"
    issued = await client.post(f"{tenant.base}/api-keys", json={"scopes": ["write"]}, headers=ADMIN)
    other_tool = bearer(issued.json()["token"])

    async def post(json: dict[str, Any], key: str | None, who: dict[str, str]) -> Any:
        headers = who if key is None else {**who, "Idempotency-Key": key}
        return await client.post(url, json=json, headers=headers)

    burst = [
        *(post(body(tenant, 10), f"t{n}", tenant.treasurer) for n in range(12)),
        post(body(tenant, 10), "t0", tenant.treasurer),  # a retry of t0
        post(body(tenant, 11), "t1", tenant.treasurer),  # t1's key, another body
        *(post(body(tenant, 5), None, tenant.treasurer) for _ in range(6)),
        post(body(tenant, 5000), "too-much", tenant.treasurer),  # past Ann's limit of -600
        post(body(tenant, 7, reverse=True), "t0", other_tool),  # another caller's key t0
    ]
    responses = await asyncio.gather(*burst)
    statuses = [r.status_code for r in responses]
    assert statuses[:12] == [201] * 12
    assert statuses[12] == 201 and responses[12].json()["id"] == responses[0].json()["id"]
    assert statuses[13] == 409 and responses[13].json()["code"] == "idempotency_conflict"
    assert statuses[14:20] == [201] * 6
    assert statuses[20] == 422 and responses[20].json()["code"] == "limit_exceeded"
    assert statuses[21] == 201 and responses[21].json()["id"] != responses[0].json()["id"]

    balance = await client.get(
        f"{tenant.base}/accounts/{tenant.bob['hours_account_id']}/balance",
        headers=tenant.treasurer,
    )
    assert balance.json()["posted"] == 12 * 10 + 6 * 5 - 7

    written = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(written) == 19
    events = await client.get(
        f"{tenant.base}/events", params={"limit": 200}, headers=tenant.treasurer
    )
    posted = [e for e in events.json()["items"] if e["type"] == "entry.posted"]
    assert sorted(e["resource"]["id"] for e in posted) == sorted(written)


@pytest.mark.postgres_only
async def test_a_burst_blocked_by_a_held_account_answers_within_one_bound(
    postgresql_database_url: str, tmp_path: Path
) -> None:
    """A group that waits out its lock bound answers every write at once (409 lock_timeout,
    retry-safe) instead of running them again one by one, each waiting out the bound again
    (20 writes × 300 ms would take at least 6 s)."""
    server = start_server(
        postgresql_database_url,
        tmp_path / "server.log",
        {"COMMONS_LEDGER_LOCK_TIMEOUT_MS": "300"},
    )
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            tenant = await make_tenant(client)  # type: ignore[arg-type]
            url = f"{tenant.base}/transfers"
            ann = str(tenant.ann["hours_account_id"])
            async with holding_account(postgresql_database_url, ann):
                started = time.monotonic()
                blocked = await asyncio.gather(
                    *(
                        client.post(
                            url,
                            json=body(tenant, 1),
                            headers={**tenant.treasurer, "Idempotency-Key": f"b{n}"},
                        )
                        for n in range(20)
                    )
                )
                elapsed = time.monotonic() - started
            assert {(r.status_code, r.json()["code"]) for r in blocked} == {(409, "lock_timeout")}
            assert elapsed < 4
            retried = await client.post(
                url, json=body(tenant, 1), headers={**tenant.treasurer, "Idempotency-Key": "b0"}
            )
            assert retried.status_code == 201
    finally:
        server.stop()
