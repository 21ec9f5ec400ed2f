"""A kill -9 of the service in the middle of a delivery loses nothing: after a restart the
event in flight goes out again (same id), and every later event follows in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ADMIN
from tests.databases import postgres_database, sqlite_url
from tests.events.receiver import Receiver, receiving
from tests.faults.server import Server, start_server

ENV = {
    "COMMONS_LEDGER_WEBHOOK_ALLOW": "127.0.0.1",
    "COMMONS_LEDGER_WEBHOOK_POLL_MS": "50",
    "COMMONS_LEDGER_WEBHOOK_TIMEOUT_S": "1",
    "COMMONS_LEDGER_WEBHOOK_RETRY_BASE_MS": "50",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def crash_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "crash.db")
    else:
        with postgres_database("cl_events_crash") as url:
            yield url


async def wait_for(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def add_members(server: Server, base: str, headers: dict[str, str], names: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for name in names:
            created = await client.post(f"{base}/members", json={"name": name}, headers=headers)
            assert created.status_code == 201, created.text


@pytest.mark.timeout(180)
async def test_a_kill_mid_delivery_loses_nothing(crash_database: str, tmp_path: Path) -> None:
    # The first request hangs (within the 1 s timeout) while the service is killed.
    with receiving(Receiver(delays_s=[0.9])) as receiver:
        server = start_server(crash_database, tmp_path / "first.log", ENV)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                created = await client.post(
                    "/api/v1/communities", json={"slug": "crash", "name": "C"}, headers=ADMIN
                )
                assert created.status_code == 201, created.text
                base = "/api/v1/communities/crash"
                hook = await client.post(
                    f"{base}/webhooks", json={"url": receiver.url}, headers=ADMIN
                )
                assert hook.status_code == 201, hook.text
            await add_members(server, base, ADMIN, "ABCD")
            await wait_for(lambda: len(receiver.received) >= 1, 30, "the first delivery")
            server.kill()  # the receiver still holds the first request
        finally:
            server.stop()
        in_flight = receiver.event_ids()[0]

        server = start_server(crash_database, tmp_path / "second.log", ENV)
        try:
            await add_members(server, base, ADMIN, "EF")
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                feed = (await client.get(f"{base}/events", headers=ADMIN)).json()["items"]
            expected = [item["id"] for item in feed]
            assert len(expected) == 6

            def all_arrived() -> bool:
                return set(receiver.event_ids()) >= set(expected)

            # The dead worker's lease (4 × timeout + 5 s) runs out before the retry.
            await wait_for(all_arrived, 60, "every event after the restart")
            await asyncio.sleep(0.3)
        finally:
            server.stop()

    ids = receiver.event_ids()
    first_seen = list(dict.fromkeys(ids))
    assert first_seen == expected  # in feed order, none lost
    assert ids.count(in_flight) == 2  # the one in flight went out again, with the same id
    assert len(ids) == len(expected) + 1  # and nothing else twice
