"""Slow export readers cannot starve the rest of the service (issue 18, H2).

A client that reads an export a few bytes at a time used to keep a pooled database connection
for as long as it took; fifteen of them took every connection and every community answered 503.
Here the slow readers are ASGI calls whose ``send`` never returns once the body starts — the
slowest reader there is — and balances, members and transfers must still answer while they
wait. Both engines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from reports.exports import journal as journal_exports
from tests.api.conftest import ADMIN_TOKEN, Tenant, make_tenant

SLOW_READERS = 20
"""More than the pool's connections on either engine (15)."""

BASE = "http://testserver"
Message = MutableMapping[str, Any]


async def _slow_reader(
    app: Litestar, tenant: Tenant, body_started: asyncio.Event, released: asyncio.Event
) -> int:
    """GETs the Beancount export and stalls at its first body chunk until ``released``."""
    token = tenant.treasurer["Authorization"].encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"{tenant.base}/exports/journal.beancount",
        "raw_path": f"{tenant.base}/exports/journal.beancount".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"authorization", token)],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    status: list[int] = []

    async def receive() -> Message:
        await released.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body" and message.get("body"):
            body_started.set()
            await released.wait()  # the client reads no further

    run: Callable[[Any, Any, Any], Awaitable[None]] = app
    await run(scope, receive, send)
    return status[0]


async def _until_stalled(started: list[asyncio.Event], at_least: int) -> None:
    """Until ``at_least`` readers are stalled in their body (or 10 s passed: before the fix the
    readers past the pool's size wait for a connection and never get there)."""
    for _ in range(200):
        if sum(event.is_set() for event in started) >= at_least:
            return
        await asyncio.sleep(0.05)


@pytest.mark.timeout(120)
async def test_balances_answer_while_slow_readers_hold_exports(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny chunks: every export has handed on text while its journal was still being read.
    monkeypatch.setattr(journal_exports, "CHUNK_CHARS", 1)
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        rate_limit_per_s=0,
        pool_timeout_s=2,
    )
    app = create_app(settings)
    # In this event loop, as the slow readers (AsyncTestClient would run the app in a thread).
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        client = cast(AsyncTestClient[Litestar], http)
        tenant = await make_tenant(client)
        transfer = {
            "debit_account_id": tenant.bob["hours_account_id"],
            "credit_account_id": tenant.ann["hours_account_id"],
            "amount": 15,
            "description": "Garden",
        }
        for _ in range(3):
            posted = await client.post(
                f"{tenant.base}/transfers", json=transfer, headers=tenant.treasurer
            )
            assert posted.status_code == 201, posted.text
        released = asyncio.Event()
        started = [asyncio.Event() for _ in range(SLOW_READERS)]
        readers = [
            asyncio.create_task(_slow_reader(app, tenant, event, released)) for event in started
        ]
        try:
            await _until_stalled(started, at_least=15)
            balance = await client.get(
                f"{tenant.base}/accounts/{tenant.ann['hours_account_id']}/balance",
                headers=tenant.ann_token,
            )
            assert balance.status_code == 200, balance.text
            written = await client.post(
                f"{tenant.base}/transfers", json=transfer, headers=tenant.treasurer
            )
            assert written.status_code == 201, written.text
            members = await client.get(f"{tenant.base}/members", headers=tenant.treasurer)
            assert members.status_code == 200, members.text
        finally:
            released.set()
            statuses = await asyncio.gather(*readers)
    # Each slow reader got either its export or a clean 503 to retry, never a cut connection.
    assert set(statuses) <= {200, 503}
    assert 200 in statuses
