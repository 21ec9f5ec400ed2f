"""PostgreSQL restarted while the service sits idle, its pool full of connections that are now
dead. Without a ping at checkout, a request that meets a dead connection answers 503
``database_unavailable`` with ``Retry-After`` (never a 500, never retried behind the client's
back); SQLAlchemy then discards every pooled connection older than the failure, so the service
writes again within a few requests, without a restart of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.cluster import Cluster, throwaway_cluster
from tests.faults.server import start_server
from tests.faults.workload import make_tenant

TIMEOUTS = {"COMMONS_LEDGER_CONNECT_TIMEOUT_S": "2", "COMMONS_LEDGER_POOL_TIMEOUT_S": "2"}
POOLED = 8
"""Concurrent requests before the restart: they leave this many connections in the pool."""


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.mark.timeout(180)
async def test_dead_pooled_connections_cost_one_clear_error_each_at_most(
    cluster: Cluster, tmp_path: Path
) -> None:
    server = start_server(cluster.url, tmp_path / "server.log", TIMEOUTS)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            tenant = await make_tenant(client, members=2)
            a, b = (m["hours_account_id"] for m in tenant.members)
            url = f"{tenant.base}/transfers"

            async def transfer(key: str) -> httpx.Response:
                body = {
                    "debit_account_id": a,
                    "credit_account_id": b,
                    "amount": 1,
                    "description": "help",
                }
                headers = tenant.treasurer | {"Idempotency-Key": key}
                return await client.post(url, json=body, headers=headers)

            warm = await asyncio.gather(*(transfer(f"warm-{n}") for n in range(POOLED)))
            assert {r.status_code for r in warm} == {201}
            await asyncio.to_thread(cluster.stop_immediately)
            await asyncio.to_thread(cluster.start)

            statuses = []
            for attempt in range(POOLED + 2):
                response = await transfer(f"after-{attempt}")
                statuses.append(response.status_code)
                if response.status_code == 201:
                    break
                assert response.status_code == 503, response.text
                assert response.json()["code"] == "database_unavailable"
                assert int(response.headers["retry-after"]) > 0
            assert statuses[-1] == 201, statuses
            # Every later request finds fresh connections.
            after = await asyncio.gather(*(transfer(f"later-{n}") for n in range(POOLED)))
            assert {r.status_code for r in after} == {201}
            assert server.process.poll() is None, "the service must not have restarted"
    finally:
        server.stop()
