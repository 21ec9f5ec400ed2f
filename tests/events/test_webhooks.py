"""Webhook delivery against a real HTTP receiver on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.events.delivery import Deliverer, DeliveryConfig
from ledger.events.http_poster import http_poster
from ledger.events.url_guard import AllowList, UrlNotAllowed
from ledger.events.webhooks import (
    SIGNATURE_HEADER,
    RetryPolicy,
    Webhook,
    WebhookNotFound,
    Webhooks,
    verify,
)
from ledger.kernel.clock import utc_now
from ledger.kernel.model import Community, Member
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.events import SqlEventStore
from ledger.store.webhooks import SqlWebhookStore
from tests.events.receiver import Receiver, receiving
from tests.ledger.test_service import transfer

LOOPBACK = AllowList.parse("127.0.0.0/8")
FAST = RetryPolicy(retry_base_s=0.01, retry_cap_s=0.05, max_attempts=4)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def webhooks(engine: AsyncEngine) -> Webhooks:
    return Webhooks(SqlUnitOfWorkFactory(engine), SqlWebhookStore.of, utc_now, allow=LOOPBACK)


def deliverer(engine: AsyncEngine, policy: RetryPolicy = FAST, timeout_s: float = 5) -> Deliverer:
    config = DeliveryConfig(policy=policy, timeout_s=timeout_s, allow=LOOPBACK)
    return Deliverer(
        SqlUnitOfWorkFactory(engine),
        SqlWebhookStore.of,
        SqlEventStore.of,
        utc_now,
        poster=http_poster,
        config=config,
    )


async def deliver_until(
    worker: Deliverer, done: object, timeout_s: float = 20.0, *workers: Deliverer
) -> None:
    """Passes (of ``worker`` and any further ``workers`` at once) until ``done()`` holds."""
    deadline = time.monotonic() + timeout_s
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "delivery did not finish in time"
        await asyncio.gather(*(w.deliver_due() for w in (worker, *workers)))
        await asyncio.sleep(0.01)


async def two_members(ledger: Ledger, community: Community) -> tuple[Member, Member]:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-6000)
    bob = await ledger.create_member(community.id, "Bob", hours_min=-6000)
    return ann, bob


async def test_a_delivery_is_signed_and_carries_the_feed_event(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    webhooks: Webhooks,
    receiver: Receiver,
) -> None:
    ann, bob = await two_members(ledger, community)
    webhook, secret = await webhooks.create(community.id, receiver.url, ["entry.posted"])
    assert secret.startswith("whsec_") and len(secret) > 40
    entry = await ledger.post_entry(
        community.id, transfer(ann.hours_account_id, bob.hours_account_id, 30)
    )
    await deliver_until(deliverer(engine), lambda: len(receiver.received) == 1)

    got = receiver.received[0]
    assert verify(secret, got.headers[SIGNATURE_HEADER], got.body, time.time())
    assert not verify("whsec_other", got.headers[SIGNATURE_HEADER], got.body, time.time())
    assert not verify(secret, got.headers[SIGNATURE_HEADER], got.body + b" ", time.time())
    # A replay much later is refused by the timestamp.
    assert not verify(secret, got.headers[SIGNATURE_HEADER], got.body, time.time() + 3600)
    body = json.loads(got.body)
    assert body["type"] == "entry.posted" and body["resource"]["id"] == str(entry.id)
    assert body["community"] == community.slug
    assert got.headers["Commons-Ledger-Event-Id"] == body["id"]
    assert got.headers["Content-Type"] == "application/json"
    # Subscribed to entry.posted only: the members created before and nothing else came.
    log = await webhooks.deliveries(community.id, webhook.id)
    assert [(d.attempt, d.delivered, d.status_code) for d in log] == [(1, True, 204)]


async def test_a_receiver_failing_twice_gets_the_event_three_times_with_one_id(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    webhooks: Webhooks,
    receiver: Receiver,
) -> None:
    receiver.statuses = [500, 503]
    webhook, _ = await webhooks.create(community.id, receiver.url)
    await ledger.create_member(community.id, "Ann")
    await deliver_until(deliverer(engine), lambda: len(receiver.received) == 3)
    await asyncio.sleep(0.1)
    await deliverer(engine).deliver_due()  # nothing more is sent once it succeeded

    ids = receiver.event_ids()
    assert len(ids) == 3 and len(set(ids)) == 1
    assert [r.headers["Commons-Ledger-Delivery-Attempt"] for r in receiver.received] == [
        "1",
        "2",
        "3",
    ]
    log = await webhooks.deliveries(community.id, webhook.id)
    assert [(d.attempt, d.delivered, d.status_code) for d in log] == [
        (1, False, 500),
        (2, False, 503),
        (3, True, 204),
    ]
    state = await webhooks.get(community.id, webhook.id)
    assert state.attempts == 0 and state.status == "active"


async def test_order_holds_per_subscription_across_failures(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    webhooks: Webhooks,
    receiver: Receiver,
) -> None:
    ann, bob = await two_members(ledger, community)
    await webhooks.create(community.id, receiver.url, ["entry.posted"])
    receiver.statuses = [204, 500, 500, 204]  # the second event fails twice
    entries = [
        await ledger.post_entry(
            community.id, transfer(ann.hours_account_id, bob.hours_account_id, minutes)
        )
        for minutes in range(1, 7)
    ]
    # Two workers at once: the lease keeps one per subscription, so order still holds.
    worker = deliverer(engine)
    await deliver_until(worker, lambda: len(receiver.received) == 8, 20.0, deliverer(engine))
    resources = [json.loads(r.body)["resource"]["id"] for r in receiver.received]
    expected = [str(entries[0].id)] + [str(entries[1].id)] * 3 + [str(e.id) for e in entries[2:]]
    assert resources == expected


async def test_a_failing_subscription_pauses_and_resumes_on_the_same_event(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    webhooks: Webhooks,
    receiver: Receiver,
) -> None:
    receiver.statuses = [500] * FAST.max_attempts
    webhook, _ = await webhooks.create(community.id, receiver.url)
    await ledger.create_member(community.id, "Ann")
    worker = deliverer(engine)
    await deliver_until(worker, lambda: len(receiver.received) == FAST.max_attempts)
    await asyncio.sleep(0.1)
    await worker.deliver_due()
    paused = await webhooks.get(community.id, webhook.id)
    assert paused.status == "paused" and paused.attempts == FAST.max_attempts
    assert len(receiver.received) == FAST.max_attempts  # paused: no more attempts

    resumed = await webhooks.resume(community.id, webhook.id)
    assert (resumed.status, resumed.attempts) == ("active", 0)
    await deliver_until(worker, lambda: len(receiver.received) == FAST.max_attempts + 1)
    assert len(set(receiver.event_ids())) == 1
    log = await webhooks.deliveries(community.id, webhook.id)
    assert log[-1].delivered and log[-1].attempt == 1


async def test_a_timeout_is_a_failure_and_retried(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    webhooks: Webhooks,
    receiver: Receiver,
) -> None:
    receiver.delay_s = 1.5
    webhook, _ = await webhooks.create(community.id, receiver.url)
    await ledger.create_member(community.id, "Ann")
    await deliverer(engine, timeout_s=0.3).deliver_due()
    log = await webhooks.deliveries(community.id, webhook.id)
    assert len(log) == 1 and not log[0].delivered
    assert log[0].error is not None and "Timeout" in log[0].error


async def test_a_redirect_is_not_followed(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    webhooks: Webhooks,
    receiver: Receiver,
) -> None:
    receiver.statuses = [302]
    webhook, _ = await webhooks.create(community.id, receiver.url)
    await ledger.create_member(community.id, "Ann")
    await deliverer(engine).deliver_due()
    log = await webhooks.deliveries(community.id, webhook.id)
    assert [(d.status_code, d.delivered) for d in log] == [(302, False)]
    assert len(receiver.received) == 1


async def test_a_subscription_starts_with_the_events_after_it(
    engine: AsyncEngine,
    ledger: Ledger,
    community: Community,
    webhooks: Webhooks,
    receiver: Receiver,
) -> None:
    await ledger.create_member(community.id, "Before")
    webhook, _ = await webhooks.create(community.id, receiver.url)
    await ledger.create_member(community.id, "After")
    await deliver_until(deliverer(engine), lambda: len(receiver.received) == 1)
    assert json.loads(receiver.received[0].body)["data"]["name"] == "After"
    await webhooks.delete(community.id, webhook.id)
    await ledger.create_member(community.id, "Deleted")
    await deliverer(engine).deliver_due()
    assert len(receiver.received) == 1
    with pytest.raises(WebhookNotFound):
        await webhooks.get(community.id, webhook.id)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/hook",
        "file:///etc/passwd",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://[fe80::1]/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://user:pw@93.184.216.34/hook",
        "http://[::ffff:10.0.0.1]/hook",
    ],
)
async def test_disallowed_urls_are_refused_at_registration(
    engine: AsyncEngine, community: Community, url: str
) -> None:
    webhooks = Webhooks(SqlUnitOfWorkFactory(engine), SqlWebhookStore.of, utc_now)
    with pytest.raises(UrlNotAllowed):
        await webhooks.create(community.id, url)
    assert await webhooks.list(community.id) == []


async def test_a_name_resolving_to_a_private_address_is_refused(
    engine: AsyncEngine, community: Community
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"] if host == "sneaky.example" else ["93.184.216.34"]

    units = SqlUnitOfWorkFactory(engine)
    webhooks = Webhooks(units, SqlWebhookStore.of, utc_now, resolve=resolve)
    with pytest.raises(UrlNotAllowed, match=r"10\.0\.0\.7"):
        await webhooks.create(community.id, "https://sneaky.example/hook")
    created, _ = await webhooks.create(community.id, "https://tool.example/hook")
    assert isinstance(created, Webhook)
    allowing = Webhooks(
        units, SqlWebhookStore.of, utc_now, allow=AllowList.parse("10.0.0.0/24"), resolve=resolve
    )
    await allowing.create(community.id, "https://sneaky.example/hook")


async def test_rebinding_after_registration_is_refused_at_delivery(
    engine: AsyncEngine, ledger: Ledger, community: Community, webhooks: Webhooks
) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    units = SqlUnitOfWorkFactory(engine)
    registry = Webhooks(units, SqlWebhookStore.of, utc_now, resolve=rebinding)
    webhook, _ = await registry.create(community.id, "http://rebind.example/hook")
    await ledger.create_member(community.id, "Ann")
    worker = Deliverer(
        units,
        SqlWebhookStore.of,
        SqlEventStore.of,
        utc_now,
        poster=http_poster,
        config=DeliveryConfig(policy=FAST),
        resolve=rebinding,
    )
    await worker.deliver_due()
    log = await registry.deliveries(community.id, webhook.id)
    assert len(log) == 1 and not log[0].delivered
    assert log[0].error is not None and "UrlNotAllowed" in log[0].error


def test_the_retry_schedule_doubles_with_jitter_and_stops_at_the_cap() -> None:
    low = RetryPolicy(retry_base_s=5, retry_cap_s=3600, rng=lambda: 0.0)
    high = RetryPolicy(retry_base_s=5, retry_cap_s=3600, rng=lambda: 1.0)
    assert [low.delay_s(n) for n in range(1, 5)] == [2.5, 5, 10, 20]
    assert [high.delay_s(n) for n in range(1, 5)] == [5, 10, 20, 40]
    assert high.delay_s(30) == 3600


def test_the_allow_list_parses_and_refuses_nonsense() -> None:
    allow = AllowList.parse(" 10.0.0.0/8, ::1 ,hooks.internal")
    assert len(allow.networks) == 2 and allow.hosts == {"hooks.internal"}
    with pytest.raises(ValueError, match="neither"):
        AllowList.parse("10.0.0.0/33x")
