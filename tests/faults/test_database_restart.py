"""PostgreSQL stopped in immediate mode and started again under load: while it is down every
request answers 503 with ``Retry-After`` within a bound and ``/ready`` says not ready; then the
service recovers by itself, and nothing acknowledged is lost or doubled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.cluster import Cluster, throwaway_cluster
from tests.faults.server import start_server
from tests.faults.workload import Writer, check_books, make_tenant, settle_all

WRITERS = 6
RESPONSE_BOUND_S = 8.0
"""No request may take longer, database down or not (connect and pool timeouts are 2 s)."""
RECOVERY_BOUND_S = 30.0
TIMEOUTS = {"COMMONS_LEDGER_CONNECT_TIMEOUT_S": "2", "COMMONS_LEDGER_POOL_TIMEOUT_S": "2"}


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as cluster:
        yield cluster


async def _timed(
    client: httpx.AsyncClient, method: str, path: str, **kwargs: object
) -> httpx.Response:
    started = time.monotonic()
    response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert time.monotonic() - started < RESPONSE_BOUND_S, f"{method} {path} hung"
    return response


async def _while_down(client: httpx.AsyncClient, writer: Writer) -> None:
    """What clients see while the database is down."""
    tenant = writer.tenant
    ready = await _timed(client, "GET", "/ready")
    assert ready.status_code == 503 and int(ready.headers["retry-after"]) > 0
    assert ready.json()["status"] == "unavailable"
    assert (await _timed(client, "GET", "/health")).status_code == 200
    body = {
        "debit_account_id": tenant.members[0]["hours_account_id"],
        "credit_account_id": tenant.members[1]["hours_account_id"],
        "amount": 5,
        "description": "help",
    }
    for method, path, payload in (
        ("POST", f"{tenant.base}/transfers", body),
        ("GET", f"{tenant.base}/trial-balance", None),
    ):
        response = await _timed(client, method, path, json=payload, headers=tenant.treasurer)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "database_unavailable"
        assert int(response.headers["retry-after"]) > 0


async def _until_ready(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    while (await _timed(client, "GET", "/ready")).status_code != 200:
        assert time.monotonic() - started < RECOVERY_BOUND_S, "the service did not recover"
        await asyncio.sleep(0.2)


@pytest.mark.timeout(240)
async def test_the_service_rides_out_a_database_restart(cluster: Cluster, tmp_path: Path) -> None:
    server = start_server(cluster.url, tmp_path / "server.log", TIMEOUTS)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            tenant = await make_tenant(client)
            writers = [Writer(client, tenant, seed) for seed in range(WRITERS)]
            stop = asyncio.Event()
            running = [asyncio.create_task(w.run(stop, through_errors=True)) for w in writers]
            await asyncio.sleep(1.0)
            await asyncio.to_thread(cluster.stop_immediately)
            await _while_down(client, writers[0])
            await asyncio.sleep(1.0)  # the writers keep trying against the dead database
            await asyncio.to_thread(cluster.start)
            await _until_ready(client)
            recovered_at = time.monotonic()
            await asyncio.sleep(1.0)  # and write again after it is back
            stop.set()
            await asyncio.wait_for(asyncio.gather(*running), timeout=60)
            assert server.process.poll() is None, "the service must not have restarted"

            writes = [write for writer in writers for write in writer.writes]
            assert sum(writer.broken_connections for writer in writers) == 0
            assert max(writer.slowest_s for writer in writers) < RESPONSE_BOUND_S
            statuses = {write.status for write in writes}
            assert 503 in statuses and 201 in statuses and 500 not in statuses, statuses
            after = [write.status for write in writes if write.sent_at > recovered_at]
            assert 201 in after, "no write succeeded after the database came back"
            await settle_all(client, tenant, writes)
            await check_books(client, tenant, writes, cluster.url)
    finally:
        server.stop()
