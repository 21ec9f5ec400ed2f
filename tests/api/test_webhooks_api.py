"""Webhooks over HTTP, delivered by the app's own loop to a real receiver on loopback."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from api.webhook_settings import WebhookSettings
from ledger.events.url_guard import AllowList
from ledger.events.webhooks import SIGNATURE_HEADER, verify
from tests.api.conftest import ADMIN_TOKEN, Tenant, make_tenant
from tests.events.receiver import Receiver, receiving

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def hook_client(database_url: str) -> AsyncIterator[Client]:
    webhook_settings = WebhookSettings(
        allow=AllowList.parse("127.0.0.1"), poll_ms=20, retry_base_ms=10, max_attempts=3
    )
    app = create_app(
        Settings(database_url=database_url, admin_token=ADMIN_TOKEN),
        webhook_settings=webhook_settings,
    )
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


async def wait_for(condition: object, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_subscribe_receive_inspect_and_delete(
    hook_client: Client, receiver: Receiver
) -> None:
    tenant: Tenant = await make_tenant(hook_client)
    created = await hook_client.post(
        f"{tenant.base}/webhooks",
        json={"url": receiver.url, "types": ["member.created"], "description": "the bot"},
        headers=tenant.treasurer,
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    secret = hook["secret"]
    assert hook["status"] == "active" and hook["types"] == ["member.created"]

    read = await hook_client.get(f"{tenant.base}/webhooks/{hook['id']}", headers=tenant.treasurer)
    assert read.status_code == 200 and "secret" not in read.json()
    listed = await hook_client.get(f"{tenant.base}/webhooks", headers=tenant.treasurer)
    assert [item["id"] for item in listed.json()["items"]] == [hook["id"]]
    assert "secret" not in listed.json()["items"][0]

    member = await hook_client.post(
        f"{tenant.base}/members", json={"name": "Cid"}, headers=tenant.treasurer
    )
    await wait_for(lambda: len(receiver.received) == 1)
    got = receiver.received[0]
    assert verify(secret, got.headers[SIGNATURE_HEADER], got.body, time.time())
    body = json.loads(got.body)
    feed = await hook_client.get(
        f"{tenant.base}/events?types=member.created", headers=tenant.treasurer
    )
    # The delivery's body is the feed's item, byte for byte the same fields.
    assert body == feed.json()["items"][-1]
    assert body["resource"] == {"kind": "member", "id": member.json()["id"]}

    # The log row is committed after the receiver answered: the receiver may see the request
    # a moment before the log shows it.
    deadline = time.monotonic() + 20
    while True:
        log = await hook_client.get(
            f"{tenant.base}/webhooks/{hook['id']}/deliveries", headers=tenant.treasurer
        )
        assert log.status_code == 200
        if log.json()["items"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    [delivery] = log.json()["items"]
    assert delivery["event_id"] == body["id"] and delivery["delivered"] is True

    gone = await hook_client.delete(
        f"{tenant.base}/webhooks/{hook['id']}", headers=tenant.treasurer
    )
    assert gone.status_code == 204
    again = await hook_client.get(f"{tenant.base}/webhooks/{hook['id']}", headers=tenant.treasurer)
    assert again.status_code == 404
    assert again.json()["type"].endswith("/webhook-not-found")


def readme_receiver() -> Callable[[str, str, bytes], bool]:
    """The ten-line receiver example of the README, run as written."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    found = re.search(r"<!-- receiver-example -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert found, "the README lost its receiver example"
    code = found.group(1)
    assert len(code.strip().splitlines()) <= 10
    namespace: dict[str, object] = {}
    exec(code, namespace)
    verify_example = namespace["verify"]
    assert callable(verify_example)
    return verify_example


async def test_the_readme_receiver_verifies_a_real_delivery(
    hook_client: Client, receiver: Receiver
) -> None:
    tenant = await make_tenant(hook_client)
    created = await hook_client.post(
        f"{tenant.base}/webhooks", json={"url": receiver.url}, headers=tenant.treasurer
    )
    secret = created.json()["secret"]
    await hook_client.post(f"{tenant.base}/members", json={"name": "Cid"}, headers=tenant.treasurer)
    await wait_for(lambda: len(receiver.received) == 1)
    got = receiver.received[0]
    check = readme_receiver()
    assert check(secret, got.headers[SIGNATURE_HEADER], got.body)
    assert not check(secret, got.headers[SIGNATURE_HEADER], got.body.replace(b"Cid", b"Kid"))
    assert not check("whsec_wrong", got.headers[SIGNATURE_HEADER], got.body)
    stale = re.sub(r"t=\d+", "t=1000000000", got.headers[SIGNATURE_HEADER])
    assert not check(secret, stale, got.body)


async def test_a_paused_subscription_resumes(hook_client: Client, receiver: Receiver) -> None:
    tenant = await make_tenant(hook_client)
    receiver.statuses = [500, 500, 500]
    created = await hook_client.post(
        f"{tenant.base}/webhooks", json={"url": receiver.url}, headers=tenant.treasurer
    )
    hook = created.json()
    await hook_client.post(f"{tenant.base}/members", json={"name": "Cid"}, headers=tenant.treasurer)
    url = f"{tenant.base}/webhooks/{hook['id']}"

    async def status() -> str:
        state: str = (await hook_client.get(url, headers=tenant.treasurer)).json()["status"]
        return state

    deadline = time.monotonic() + 20
    while await status() != "paused":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    resumed = await hook_client.post(f"{url}/resume", headers=tenant.treasurer)
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    await wait_for(lambda: len(receiver.received) == 4)
    assert len(set(receiver.event_ids())) == 1


async def test_disallowed_urls_and_bad_types_are_refused(hook_client: Client) -> None:
    tenant = await make_tenant(hook_client)
    for url in ("http://10.0.0.1/hook", "ftp://127.0.0.1/x", "http://169.254.169.254/x"):
        refused = await hook_client.post(
            f"{tenant.base}/webhooks", json={"url": url}, headers=tenant.treasurer
        )
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["type"].endswith("/url-not-allowed")
    bad_type = await hook_client.post(
        f"{tenant.base}/webhooks",
        json={"url": "http://127.0.0.1:9/x", "types": ["entry.nonsense"]},
        headers=tenant.treasurer,
    )
    assert bad_type.status_code == 422
    listed = await hook_client.get(f"{tenant.base}/webhooks", headers=tenant.treasurer)
    assert listed.json()["items"] == []


async def test_members_and_readers_cannot_manage_webhooks(hook_client: Client) -> None:
    tenant = await make_tenant(hook_client)
    for headers in (tenant.ann_token,):
        response = await hook_client.get(f"{tenant.base}/webhooks", headers=headers)
        assert response.status_code == 403
