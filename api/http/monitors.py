"""Balance monitors on accounts (treasurers and admins)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from api.http.common.auth import principal_of, requires
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.event_schemas import BalanceMeasure, MonitorCreate, MonitorDirection, MonitorOut
from api.http.schemas import Page
from ledger.access.principals import Scope
from ledger.events.monitors import Monitor, Monitors
from ledger.kernel.model import Community

_NOT_FOUND = problems(*COMMUNITY, 403, codes=["monitor_not_found"])


def _out(monitor: Monitor) -> MonitorOut:
    return MonitorOut(
        id=monitor.id,
        account_id=monitor.account_id,
        direction=MonitorDirection(monitor.direction),
        threshold=monitor.threshold,
        measure=BalanceMeasure(monitor.measure),
        description=monitor.description,
        crossed=monitor.crossed,
        created_at=monitor.created_at,
    )


class MonitorsController(Controller):
    path = "/monitors"
    tags = ("monitors",)
    guards = (requires(Scope.TREASURER),)

    @post(
        summary="Watch an account's balance: an event each time it crosses a threshold",
        description=(
            "`balance.threshold_crossed` is emitted when a write moves the balance past "
            "`threshold` (`beyond: true`) or back (`beyond: false`) — once per crossing, not "
            "per entry. `measure` `available` watches the balance counting pending entries (as "
            "limits do): e.g. hours within 60 minutes of a −600 limit is `below` −540 on "
            "`available`."
        ),
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=["invalid_input", "account_not_found", "account_closed", *IDEMPOTENT],
        ),
    )
    async def create_monitor(
        self,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        monitors: NamedDependency[Monitors],
        data: JSONBody[MonitorCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> MonitorOut:
        monitor = await monitors.create(
            community.id,
            data.account_id,
            direction=data.direction,
            threshold=data.threshold,
            measure=data.measure,
            description=data.description,
            key=key_of(principal_of(request), idempotency_key),
        )
        return _out(monitor)

    @get(summary="List balance monitors", responses=problems(*COMMUNITY, 403))
    async def list_monitors(
        self,
        community: NamedDependency[Community],
        monitors: NamedDependency[Monitors],
        *,
        account_id: Annotated[
            uuid.UUID | None, QueryParameter(description="only this account's monitors")
        ] = None,
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[MonitorOut]:
        found = await monitors.list(
            community.id,
            account_id=account_id,
            after=decode_cursor(cursor, uuid.UUID),
            limit=limit + 1,
        )
        return page_of(found, limit, _out, lambda monitor: monitor.id)

    @get("/{monitor_id:uuid}", summary="Read a balance monitor", responses=_NOT_FOUND)
    async def read_monitor(
        self,
        community: NamedDependency[Community],
        monitors: NamedDependency[Monitors],
        monitor_id: FromPath[uuid.UUID],
    ) -> MonitorOut:
        return _out(await monitors.get(community.id, monitor_id))

    @delete(
        "/{monitor_id:uuid}",
        summary="Delete a balance monitor",
        responses=problems(*COMMUNITY, 403, codes=["monitor_not_found", *IDEMPOTENT]),
    )
    async def delete_monitor(
        self,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        monitors: NamedDependency[Monitors],
        monitor_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> None:
        key = key_of(principal_of(request), idempotency_key)
        await monitors.delete(community.id, monitor_id, key)


COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [MonitorsController]
"""Handlers under ``/communities/{slug}``."""
