"""Balance monitors on accounts (treasurers and admins)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.http.common.auth import requires
from api.http.common.openapi import COMMUNITY, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.event_schemas import MonitorCreate, MonitorOut
from api.http.schemas import Page
from api.state import Services
from ledger.access.principals import Scope
from ledger.events.monitors import Monitor
from ledger.kernel.model import Community

_TAGS = ["monitors"]
_NOT_FOUND = problems(*COMMUNITY, 403, codes=["monitor_not_found"])


def _out(monitor: Monitor) -> MonitorOut:
    return MonitorOut(
        id=monitor.id,
        account_id=monitor.account_id,
        direction=monitor.direction,
        threshold=monitor.threshold,
        measure=monitor.measure,
        description=monitor.description,
        crossed=monitor.crossed,
        created_at=monitor.created_at,
    )


@post(
    "/monitors",
    summary="Watch an account's balance: an event each time it crosses a threshold",
    description=(
        "`balance.threshold_crossed` is emitted when a write moves the balance past "
        "`threshold` (`beyond: true`) or back (`beyond: false`) — once per crossing, not per "
        "entry. `measure` `available` watches the balance counting pending entries (as limits "
        "do): e.g. hours within 60 minutes of a −600 limit is `below` −540 on `available`."
    ),
    responses=problems(*COMMUNITY, 403, 413, codes=["invalid_input", "account_not_found"]),
    guards=[requires(Scope.TREASURER)],
    tags=_TAGS,
)
async def create_monitor(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    data: JSONBody[MonitorCreate],
) -> MonitorOut:
    monitor = await Services.of(request).monitors.create(
        community.id,
        data.account_id,
        direction=data.direction,
        threshold=data.threshold,
        measure=data.measure,
        description=data.description,
    )
    return _out(monitor)


@get(
    "/monitors",
    summary="List balance monitors",
    responses=problems(*COMMUNITY, 403),
    guards=[requires(Scope.TREASURER)],
    tags=_TAGS,
)
async def list_monitors(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    account_id: Annotated[
        uuid.UUID | None, QueryParameter(description="only this account's monitors")
    ] = None,
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> Page[MonitorOut]:
    found = await Services.of(request).monitors.list(
        community.id,
        account_id=account_id,
        after=decode_cursor(cursor, uuid.UUID),
        limit=limit + 1,
    )
    return page_of(found, limit, _out, lambda monitor: monitor.id)


@get(
    "/monitors/{monitor_id:uuid}",
    summary="Read a balance monitor",
    responses=_NOT_FOUND,
    guards=[requires(Scope.TREASURER)],
    tags=_TAGS,
)
async def read_monitor(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    monitor_id: FromPath[uuid.UUID],
) -> MonitorOut:
    return _out(await Services.of(request).monitors.get(community.id, monitor_id))


@delete(
    "/monitors/{monitor_id:uuid}",
    summary="Delete a balance monitor",
    responses=_NOT_FOUND,
    guards=[requires(Scope.TREASURER)],
    tags=_TAGS,
)
async def delete_monitor(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    monitor_id: FromPath[uuid.UUID],
) -> None:
    await Services.of(request).monitors.delete(community.id, monitor_id)


COMMUNITY_HANDLERS = [create_monitor, list_monitors, read_monitor, delete_monitor]
"""Handlers under ``/communities/{slug}``."""
