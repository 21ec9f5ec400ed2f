"""SIGTERM during a request: the request in flight finishes and is written, new connections are
refused, the pool closes and the process exits cleanly."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.faults.locks import holding_account
from tests.faults.server import start_server
from tests.faults.workload import make_tenant

EXIT_BOUND_S = 20.0


async def _until_waiting_on_a_lock(dsn: str) -> None:
    """Until some backend of the database waits on a lock: the request is in flight."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        deadline = time.monotonic() + 10
        query = (
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        while not await connection.fetchval(query):
            assert time.monotonic() < deadline, "the request never reached the lock"
            await asyncio.sleep(0.05)
    finally:
        await connection.close()


async def _refused(url: str) -> bool:
    """Whether a new request goes unserved: refused, or — caught in the listening socket's
    backlog as it closed — disconnected without an answer."""
    try:
        async with httpx.AsyncClient(timeout=2) as fresh:
            await fresh.get(f"{url}/health")
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
        return True
    return False


@pytest.mark.timeout(120)
async def test_sigterm_lets_the_request_in_flight_finish(
    fault_database: str, tmp_path: Path
) -> None:
    dsn = make_url(fault_database).set(drivername="postgresql").render_as_string(False)
    # The request will wait on a lock for longer than the test takes to send SIGTERM.
    bounds = {"COMMONS_LEDGER_LOCK_TIMEOUT_MS": "20000", "COMMONS_LEDGER_SHUTDOWN_TIMEOUT_S": "15"}
    server = start_server(fault_database, tmp_path / "server.log", bounds)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            tenant = await make_tenant(client, members=2)
            giver, taker = tenant.members
            body = {
                "debit_account_id": taker["hours_account_id"],
                "credit_account_id": giver["hours_account_id"],
                "amount": 45,
                "description": "help",
            }
            path = f"{tenant.base}/transfers"
            async with holding_account(fault_database, str(giver["hours_account_id"])):
                in_flight = asyncio.create_task(
                    client.post(path, json=body, headers=tenant.treasurer)
                )
                await _until_waiting_on_a_lock(dsn)
                server.terminate()
                deadline = time.monotonic() + 10
                while not await _refused(server.url):
                    assert time.monotonic() < deadline, "new connections are still accepted"
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)  # the server is now waiting for the request
                assert not in_flight.done()
            # The lock is released: the request finishes although the server is stopping.
            response = await asyncio.wait_for(in_flight, timeout=EXIT_BOUND_S)
            assert response.status_code == 201, response.text
        exit_code = await asyncio.to_thread(server.process.wait, EXIT_BOUND_S)
        # uvicorn re-raises the signal once it has shut down, as process managers expect.
        assert exit_code in (0, -signal.SIGTERM)
    finally:
        server.stop()
    log = server.log.read_text()
    waited = log.find("Waiting for connections to close")
    assert 0 <= waited < log.find("Application shutdown complete"), log[-2000:]
    # The pool was closed: the database has no session of the service left (a backend ends a
    # moment after its client hung up, so allow it that moment).
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        stored = await connection.fetchval(
            "SELECT count(*) FROM entries WHERE id = $1", response.json()["id"]
        )
        deadline = time.monotonic() + 10
        while await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ):
            assert time.monotonic() < deadline, "the service left sessions open"
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    assert stored == 1
