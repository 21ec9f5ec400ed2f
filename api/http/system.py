"""Liveness, readiness and metrics, outside the API prefix and without authentication."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncEngine

from api.http.schemas import Health, HealthStatus
from api.metrics import Metrics

READY_TIMEOUT_S = 2.0


@get(
    "/health",
    summary="Liveness: the process answers",
    exclude_from_auth=True,
    tags=["system"],
    responses={
        200: ResponseSpec(
            Health,
            description="The process answers",
            generate_examples=False,
            examples=[Example(summary="ok", value={"status": "ok"})],
        )
    },
)
async def health() -> Health:
    return Health(status=HealthStatus.OK)


@get(
    "/ready",
    summary="Readiness: the database answers",
    exclude_from_auth=True,
    tags=["system"],
    responses={
        200: ResponseSpec(
            Health,
            description="The database answers",
            generate_examples=False,
            examples=[Example(summary="ok", value={"status": "ok", "database": "ok"})],
        ),
        503: ResponseSpec(
            Health,
            description="The database does not answer; retry after `Retry-After` seconds",
            generate_examples=False,
            examples=[
                Example(
                    summary="unavailable",
                    value={"status": "unavailable", "database": "unreachable"},
                )
            ],
        ),
    },
)
async def ready(engine: NamedDependency[AsyncEngine]) -> Response[Health]:
    try:
        async with asyncio.timeout(READY_TIMEOUT_S), engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except (OSError, TimeoutError, sa.exc.SQLAlchemyError):
        return Response(
            Health(status=HealthStatus.UNAVAILABLE, database="unreachable"),
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    return Response(Health(status=HealthStatus.OK, database="ok"), status_code=HTTP_200_OK)


_METRICS_EXAMPLE = """# HELP commons_ledger_entries_posted_total Entries that became posted
# TYPE commons_ledger_entries_posted_total counter
commons_ledger_entries_posted_total 42.0
"""


@get(
    "/metrics",
    summary="Metrics in the Prometheus text format",
    description="Request counts and latencies by route, entries posted, idempotent replays, "
    "rejected writes by code and database pool use (see docs/operations.md).",
    exclude_from_auth=True,
    tags=["system"],
    responses={
        200: ResponseSpec(
            str,
            description="The Prometheus text exposition format",
            media_type="text/plain",
            generate_examples=False,
            examples=[Example(summary="a counter", value=_METRICS_EXAMPLE)],
        )
    },
)
async def metrics(metrics: NamedDependency[Metrics]) -> Response[bytes]:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
