"""Webhook URLs are checked whole at registration, and one broken subscription costs a failed
attempt of its own only (issue 18, M4 and the 6to4 hole)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.events import webhooks as webhooks_module
from ledger.events.delivery import Poster, PostFailed
from ledger.events.http_poster import http_poster
from ledger.events.url_guard import Target, UrlNotAllowed, check, is_public
from ledger.events.webhooks import Webhooks
from ledger.kernel.clock import utc_now
from ledger.kernel.model import Community
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.webhooks import SqlWebhookStore
from tests.events.receiver import Receiver
from tests.events.test_webhooks import LOOPBACK, deliver_until, deliverer, receiver  # noqa: F401

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    "url",
    [
        f"http://{PUBLIC}/hook\r\nX-Injected: 1",
        f"http://{PUBLIC}/ho\nok",
        f"http://{PUBLIC}/ho\tok",
        f"http://{PUBLIC}/ho ok",
        f"http://{PUBLIC}/ho\x00ok",
        f"http://{PUBLIC}/h\x7fook",
        f"http://{PUBLIC}/hoök",
        f" http://{PUBLIC}/hook",
        f"http://{PUBLIC}:0/hook",
        "http://exa_mple.com/hook",
        "http://bad..example/hook",
        "http://" + "a" * 64 + ".example/hook",
        f"http://{PUBLIC}/" + "a" * 2100,
    ],
)
async def test_urls_an_http_client_would_refuse_are_refused_at_registration(url: str) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return [PUBLIC]

    with pytest.raises(UrlNotAllowed):
        await check(url, LOOPBACK, resolve)


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
        "::ffff:127.0.0.1",
        "::127.0.0.1",  # IPv4-compatible (deprecated)
    ],
)
def test_ipv6_addresses_that_embed_a_private_ipv4_address_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


async def test_a_6to4_url_to_loopback_is_refused(engine: AsyncEngine, community: Community) -> None:
    webhooks = Webhooks(SqlUnitOfWorkFactory(engine), SqlWebhookStore.of, utc_now)
    with pytest.raises(UrlNotAllowed):
        await webhooks.create(community.id, "http://[2002:7f00:1::]/hook")


def test_public_addresses_stay_public() -> None:
    assert is_public(ipaddress.ip_address(PUBLIC))
    assert is_public(ipaddress.ip_address("2606:4700:4700::1111"))
    assert is_public(ipaddress.ip_address("2002:5db8:d822::"))  # 6to4 of a public address


async def test_every_url_the_guard_accepts_is_one_httpx_accepts() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return [PUBLIC]

    for url in (
        "https://hooks.example/a/b?c=d&e=%20f#frag",
        "http://hooks.example:8080/",
        "https://xn--bcher-kva.example/hook",
        f"http://[{ipaddress.IPv6Address('2606:4700:4700::1111')}]/hook",
    ):
        target = await check(url, LOOPBACK, resolve)
        httpx.URL(target.url)


async def test_the_poster_turns_an_unusable_url_into_a_failed_attempt() -> None:
    target = Target("http://127.0.0.1/ho\r\nok", "127.0.0.1", 80, ipaddress.ip_address("127.0.0.1"))
    async with http_poster(1.0) as poster:
        with pytest.raises(PostFailed):
            await poster.post(target, b"{}", {})


async def test_a_broken_subscription_does_not_stop_delivery_to_the_others(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    receiver: Receiver,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    registry = Webhooks(units, SqlWebhookStore.of, utc_now, allow=LOOPBACK)
    # A URL stored before registration checked it whole (as the probe found it).
    with monkeypatch.context() as patched:

        async def unchecked(url: str, *_: object) -> None:
            return None

        patched.setattr(webhooks_module, "check", unchecked)
        broken, _ = await registry.create(community.id, receiver.url + "\r\nX-Injected: 1")
    healthy, _ = await registry.create(community.id, receiver.url)
    await ledger.create_member(community.id, "Ann")
    worker = deliverer(engine)
    await deliver_until(worker, lambda: len(receiver.received) == 1)
    failed = await registry.deliveries(community.id, broken.id)
    assert failed and not any(d.delivered for d in failed)
    assert [d.delivered for d in await registry.deliveries(community.id, healthy.id)] == [True]


async def test_a_poster_crash_is_a_failed_attempt_of_that_subscription(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    receiver: Receiver,  # noqa: F811
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    registry = Webhooks(units, SqlWebhookStore.of, utc_now, allow=LOOPBACK)
    crashing, _ = await registry.create(community.id, receiver.url.replace("/hook", "/crash"))
    healthy, _ = await registry.create(community.id, receiver.url)
    await ledger.create_member(community.id, "Ann")

    @asynccontextmanager
    async def poster(timeout_s: float) -> AsyncIterator[Poster]:
        async with http_poster(timeout_s) as real:
            yield _CrashingOn("/crash", real)

    worker = deliverer(engine)
    worker._open_poster = poster  # the real one, crashing on one subscription's URL
    await deliver_until(worker, lambda: len(receiver.received) == 1)
    failed = await registry.deliveries(community.id, crashing.id)
    assert failed and failed[0].error is not None and "RuntimeError" in failed[0].error
    assert [d.delivered for d in await registry.deliveries(community.id, healthy.id)] == [True]


class _CrashingOn:
    def __init__(self, path: str, real: Poster) -> None:
        self._path, self._real = path, real

    async def post(self, target: Target, body: bytes, headers: dict[str, str]) -> int:
        if target.url.endswith(self._path):
            raise RuntimeError("a bug in the client")
        return await self._real.post(target, body, headers)
