"""``GET /metrics``: request counts and latencies by route, entries posted, idempotent replays,
rejected writes by code and pool use, each checked against counts worked out by hand."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from api.metrics import Metrics
from tests.api.conftest import Tenant

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
TRANSFERS = "/api/v1/communities/{slug}/transfers"


def parse_samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _scrape(client: AsyncTestClient[Litestar]) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse_samples(response.text)


def sample_value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_what_happened(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    path = f"{tenant.base}/transfers"
    body = {
        "debit_account_id": tenant.bob["hours_account_id"],
        "credit_account_id": tenant.ann["hours_account_id"],
        "amount": 30,
        "description": "Help",
    }
    keyed = tenant.treasurer | {"Idempotency-Key": "metrics-1"}
    assert (await client.post(path, json=body, headers=keyed)).status_code == 201
    assert (await client.post(path, json=body, headers=keyed)).status_code == 201  # a replay
    pending = await client.post(path, json=body | {"pending": True}, headers=tenant.treasurer)
    assert pending.status_code == 201
    posted = await client.post(
        f"{tenant.base}/entries/{pending.json()['id']}/post", headers=tenant.treasurer
    )
    assert posted.status_code == 200
    too_much = await client.post(path, json=body | {"amount": 6000}, headers=tenant.treasurer)
    assert too_much.json()["code"] == "limit_exceeded"
    assert (await client.post(path, json=body)).status_code == 401
    assert (await client.get(f"{tenant.base}/entries", headers=tenant.treasurer)).status_code == 200

    samples = await _scrape(client)
    # The first transfer and the pending one once posted; the replay and the refusal post none.
    assert sample_value(samples, "commons_ledger_entries_posted_total") == 2
    assert sample_value(samples, "commons_ledger_writes_total", operation="post_entry") == 2
    assert sample_value(samples, "commons_ledger_writes_total", operation="post_pending") == 1
    assert sample_value(samples, "commons_ledger_writes_total", operation="create_member") == 2
    replays = "commons_ledger_idempotent_replays_total"
    assert sample_value(samples, replays, operation="post_entry") == 1
    rejected = "commons_ledger_rejected_writes_total"
    assert sample_value(samples, rejected, code="limit_exceeded") == 1
    assert sample_value(samples, rejected, code="unauthorized") == 1
    requests = "commons_ledger_http_requests_total"
    assert sample_value(samples, requests, method="POST", route=TRANSFERS, status="201") == 3
    assert sample_value(samples, requests, method="POST", route=TRANSFERS, status="422") == 1
    assert sample_value(samples, requests, method="POST", route=TRANSFERS, status="401") == 1
    entries = "/api/v1/communities/{slug}/entries"
    assert sample_value(samples, requests, method="GET", route=entries, status="200") == 1
    latency = "commons_ledger_http_request_duration_seconds"
    assert sample_value(samples, f"{latency}_count", method="POST", route=TRANSFERS) == 5
    assert sample_value(samples, f"{latency}_sum", method="POST", route=TRANSFERS) > 0
    # The scrape itself is not counted; nor does any series name a concrete id.
    assert not any("/metrics" in dict(labels).get("route", "") for _, labels in samples)
    assert not any(tenant.slug in dict(labels).get("route", "") for _, labels in samples)
    pool = "commons_ledger_db_pool_connections"
    assert sample_value(samples, pool, state="checked_out") == 0  # nothing is in flight now
    assert sample_value(samples, pool, state="idle") >= 1
    assert sample_value(samples, "commons_ledger_db_pool_size") >= 1


async def test_pool_use_counts_connections_in_use(engine: AsyncEngine) -> None:
    metrics = Metrics(engine)

    def checked_out() -> float:
        samples = parse_samples(metrics.exposition()[0].decode())
        return sample_value(samples, "commons_ledger_db_pool_connections", state="checked_out")

    assert checked_out() == 0
    async with engine.connect(), engine.connect():
        assert checked_out() == 2
    assert checked_out() == 0
