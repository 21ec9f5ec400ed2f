"""Prometheus metrics of one application, served as text at ``GET /metrics``.

- ``commons_ledger_http_requests_total{method,route,status}`` and
  ``commons_ledger_http_request_duration_seconds{method,route}``: per route *template*
  (``/api/v1/communities/{slug}/transfers``), so that ids never multiply the series;
- ``commons_ledger_entries_posted_total``: entries that became posted (new posted entries,
  completed pending ones, reversals), counted after their commit;
- ``commons_ledger_writes_total{operation}``: idempotent writes that took effect, by use case;
- ``commons_ledger_idempotent_replays_total{operation}``: retries answered from their
  idempotency key, without a second effect;
- ``commons_ledger_rejected_writes_total{code}``: write requests (POST, PUT, PATCH, DELETE)
  answered with a problem, by its stable ``code`` (``limit_exceeded``, ``unauthorized`` …);
- ``commons_ledger_db_pool_connections{state}`` (``checked_out``, ``idle``, ``overflow``) and
  ``commons_ledger_db_pool_size``: read from the engine's pool at each scrape.

With several workers (``commons-ledger serve --workers N``, ``api.workers``) the counters and
histograms live in files of a folder all workers share (``PROMETHEUS_MULTIPROC_DIR``), and
``/metrics`` from any worker sums them over the workers; the pool gauges are those of the worker
that answered.

Every application has a registry of its own (several may live in one test process). The request
metrics are taken in the one ``before_send`` hook (``observe_response``), which sees every
response — also those that middleware such as authentication answer by raising — from the start
time the request log's middleware stamps (``api.http.common.request_log.started_at``: one
middleware for both, since each layer costs every request).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from api.http.common.request_log import started_at
from ledger.kernel.model import Entry, EntryStatus

METRICS_PATH: Final = "/metrics"
MULTIPROCESS_DIR_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
"""Set (before prometheus_client is imported) in every worker of a multi-process server."""
_STATE_KEY: Final = "commons_ledger_metrics"
_WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PROBLEM: Final = b"application/problem+json"
_LATENCY_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _Problem(msgspec.Struct):
    code: str = "unknown"


@dataclass(slots=True)
class _Response:
    """One response between its start and its last part."""

    method: str
    route: str
    started: float
    problem: bool
    """A write answered with a problem: its body is kept to count the problem's code."""
    body: bytes = b""


class _PoolCollector(Collector):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        pool: Any = self._engine.pool
        states = GaugeMetricFamily(
            "commons_ledger_db_pool_connections",
            "Database connections of the pool, by state",
            labels=["state"],
        )
        for state, read in (
            ("checked_out", "checkedout"),
            ("idle", "checkedin"),
            ("overflow", "overflow"),
        ):
            reader = getattr(pool, read, None)
            if reader is not None:
                states.add_metric([state], max(float(reader()), 0.0))
        yield states
        size = getattr(pool, "size", None)
        if size is not None:
            yield GaugeMetricFamily(
                "commons_ledger_db_pool_size", "Connections the pool keeps open", value=size()
            )


class Metrics:
    """The metrics of one application; also the ledger's events observer."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "commons_ledger_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "commons_ledger_http_request_duration_seconds",
            "Time to the end of the response, by method and route template",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.write_groups = Histogram(
            "commons_ledger_write_group_size",
            "Single transfers and entries committed together in one transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.entries_posted = Counter(
            "commons_ledger_entries_posted", "Entries that became posted", registry=self.registry
        )
        self.writes = Counter(
            "commons_ledger_writes",
            "Writes that took effect, by use case",
            ["operation"],
            registry=self.registry,
        )
        self.replays = Counter(
            "commons_ledger_idempotent_replays",
            "Retries answered from their idempotency key, without a second effect",
            ["operation"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "commons_ledger_rejected_writes",
            "Write requests answered with a problem, by its code",
            ["code"],
            registry=self.registry,
        )
        self.replica_reads = Counter(
            "commons_ledger_replica_reads",
            "Read units of work of reports, exports, statements and the community's figures with a"
            " replica configured, by where they ran (replica, or primary when the replica was"
            " behind, away or no standby)",
            ["served_by"],
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, int], Any] = {}
        self._latency_children: dict[tuple[str, str], Any] = {}
        self._pool = _PoolCollector(engine)
        self.registry.register(self._pool)

    # Ledger events --------------------------------------------------------------------------

    def written(self, operation: str, result: object) -> None:
        self.writes.labels(operation).inc()
        if isinstance(result, Entry) and result.status is EntryStatus.POSTED:
            self.entries_posted.inc()

    def replayed(self, operation: str) -> None:
        self.replays.labels(operation).inc()

    def grouped(self, size: int) -> None:
        self.write_groups.observe(size)

    def read_served(self, by: str) -> None:
        self.replica_reads.labels(by).inc()

    # HTTP -----------------------------------------------------------------------------------

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text format and its content type."""
        if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        # Several workers: every worker's counters from the shared folder, and this one's pool.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self._pool)
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def observe_response(self, message: Any, scope: Any) -> None:
        """Counts the response when its start goes out (latency when its last part does): a
        plain function for the request log's one ``before_send`` hook."""
        route = scope.get("path_template")
        if route is None or route == METRICS_PATH:
            return
        if message["type"] == "http.response.start":
            started = started_at(scope)
            if started is None:
                return  # not routed through the middleware (no route matched)
            method = scope.get("method", "")
            status = int(message["status"])
            self._requests_child(method, route, status).inc()
            problem = (
                method in _WRITE_METHODS
                and status >= 400
                and dict(message.get("headers", [])).get(b"content-type", b"").startswith(_PROBLEM)
            )
            scope["state"][_STATE_KEY] = _Response(method, route, started, problem)
        elif message["type"] == "http.response.body":
            tracked: _Response | None = scope.get("state", {}).get(_STATE_KEY)
            if tracked is None:
                return
            if tracked.problem:
                tracked.body += message.get("body", b"")
            if not message.get("more_body", False):
                self._finish(tracked)

    def _requests_child(self, method: str, route: str, status: int) -> Any:
        # prometheus_client's ``labels`` validates and locks on every call; the children of
        # the (few) route templates are kept here after their first request.
        key = (method, route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(method, route, str(status))
        return child

    def _finish(self, tracked: _Response) -> None:
        key = (tracked.method, tracked.route)
        latency = self._latency_children.get(key)
        if latency is None:
            latency = self._latency_children[key] = self.latency.labels(*key)
        latency.observe(time.perf_counter() - tracked.started)
        if tracked.problem:
            try:
                code = msgspec.json.decode(tracked.body, type=_Problem).code
            except msgspec.DecodeError:
                code = "unknown"
            self.rejected.labels(code).inc()
