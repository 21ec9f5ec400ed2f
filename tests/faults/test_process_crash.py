"""A SIGKILL of the service while clients write at full speed loses nothing acknowledged,
duplicates nothing retried and leaves no partial entry."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.server import start_server
from tests.faults.workload import Writer, check_books, make_tenant, settle_all

WRITERS = 8
LOAD_BEFORE_KILL_S = 2.0
MIN_ACKNOWLEDGED = 30
LOAD_MAX_S = 30.0


def _acknowledged(writers: list[Writer]) -> int:
    return sum(write.status is not None for writer in writers for write in writer.writes)


@pytest.mark.timeout(240)
async def test_a_killed_server_keeps_every_acknowledged_write_exactly_once(
    fault_database: str, tmp_path: Path
) -> None:
    server = start_server(fault_database, tmp_path / "first.log")
    try:
        limits = httpx.Limits(max_connections=WRITERS * 2)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
            tenant = await make_tenant(client)
            writers = [Writer(client, tenant, seed) for seed in range(WRITERS)]
            stop = asyncio.Event()
            running = [
                asyncio.create_task(writer.run(stop, through_errors=False)) for writer in writers
            ]
            await asyncio.sleep(LOAD_BEFORE_KILL_S)
            # On a busy machine, go on until there is enough acknowledged to check.
            deadline = time.monotonic() + LOAD_MAX_S
            while time.monotonic() < deadline:
                if _acknowledged(writers) >= MIN_ACKNOWLEDGED:
                    break
                await asyncio.sleep(0.1)
            server.kill()  # mid-flight: every writer has a request out
            await asyncio.wait_for(asyncio.gather(*running), timeout=30)
    finally:
        server.stop()
    writes = [write for writer in writers for write in writer.writes]
    acknowledged = [write for write in writes if write.status is not None]
    assert len(acknowledged) >= MIN_ACKNOWLEDGED, "too little load to prove anything"
    assert {201, 200} <= {write.status for write in acknowledged}

    server = start_server(fault_database, tmp_path / "second.log")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            in_flight = await settle_all(client, tenant, writes)
            assert in_flight >= 1, "the kill hit no request in flight"
            await check_books(client, tenant, writes, fault_database)
    finally:
        server.stop()
