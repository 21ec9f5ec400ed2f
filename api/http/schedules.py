"""Recurring entries: schedules the periodic job materialises exactly once per period.

Who may do what: a ``treasurer`` key creates, pauses, resumes and ends schedules; ``read`` keys
read them and their occurrences (member tokens: 403 — schedules move the community's books).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from api.http.common.auth import principal_of, requires
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.economy_schemas import OccurrenceOut, ScheduleCreate, ScheduleOut
from api.http.schemas import Page
from ledger.access.principals import Scope
from ledger.economy.service import Economy
from ledger.kernel.model import Community

_CHANGE_CODES = ["schedule_not_found", "schedule_ended", *IDEMPOTENT]


class SchedulesController(Controller):
    path = "/schedules"
    tags = ("schedules",)
    guards = (requires(Scope.READ),)

    @post(
        summary="Create a recurring transfer (monthly dues, a rent share, a standing transfer)",
        description=(
            "Moves `amount` from `credit_account_id` to `debit_account_id` on every date of "
            "`frequency` from `start_date` (the first occurrence) to `end_date`. The daily job "
            "writes each due occurrence exactly once, as a posted entry of kind `scheduled` "
            "effective on its date; an occurrence the ledger refuses (a limit) is tried again "
            "at the next run."
        ),
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "invalid_amount",
                "account_not_found",
                "account_closed",
                *IDEMPOTENT,
            ],
        ),
        guards=[requires(Scope.TREASURER)],
        status_code=HTTP_201_CREATED,
    )
    async def create_schedule(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        data: JSONBody[ScheduleCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> ScheduleOut:
        view = await economy.schedules.create(
            community.id, data.to_domain(), key_of(principal_of(request), idempotency_key)
        )
        return ScheduleOut.of(view)

    @get(
        summary="List schedules in the order they were created",
        responses=problems(*COMMUNITY, 403),
    )
    async def list_schedules(
        self,
        *,
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[ScheduleOut]:
        found = await economy.schedules.list_schedules(
            community.id, after=decode_cursor(cursor, uuid.UUID), limit=limit + 1
        )
        return page_of(found, limit, ScheduleOut.of, lambda view: view.schedule.id)

    @get(
        "/{schedule_id:uuid}",
        summary="Read a schedule",
        responses=problems(*COMMUNITY, 403, codes=["schedule_not_found"]),
    )
    async def read_schedule(
        self,
        *,
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        schedule_id: FromPath[uuid.UUID],
    ) -> ScheduleOut:
        return ScheduleOut.of(await economy.schedules.get(community.id, schedule_id))

    @get(
        "/{schedule_id:uuid}/occurrences",
        summary="The periods a schedule has written, oldest first, with their entries",
        responses=problems(*COMMUNITY, 403, codes=["schedule_not_found"]),
    )
    async def list_occurrences(
        self,
        *,
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        schedule_id: FromPath[uuid.UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[OccurrenceOut]:
        after = decode_cursor(cursor, date)
        found = [
            OccurrenceOut(period, entry_id)
            for period, entry_id in await economy.schedules.occurrences(community.id, schedule_id)
            if after is None or period > after
        ]
        return page_of(found[: limit + 1], limit, lambda o: o, lambda o: o.period)

    @post(
        "/{schedule_id:uuid}/pause",
        summary="Pause a schedule: nothing is written until it resumes",
        responses=problems(*COMMUNITY, 403, codes=[*_CHANGE_CODES, "schedule_not_active"]),
        guards=[requires(Scope.TREASURER)],
        status_code=HTTP_200_OK,
    )
    async def pause_schedule(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        schedule_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> ScheduleOut:
        key = key_of(principal_of(request), idempotency_key)
        return ScheduleOut.of(await economy.schedules.pause(community.id, schedule_id, key))

    @post(
        "/{schedule_id:uuid}/resume",
        summary="Resume a paused schedule from today; dates that fell in the pause are skipped",
        responses=problems(*COMMUNITY, 403, codes=[*_CHANGE_CODES, "schedule_not_paused"]),
        guards=[requires(Scope.TREASURER)],
        status_code=HTTP_200_OK,
    )
    async def resume_schedule(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        schedule_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> ScheduleOut:
        key = key_of(principal_of(request), idempotency_key)
        return ScheduleOut.of(await economy.schedules.resume(community.id, schedule_id, key))

    @post(
        "/{schedule_id:uuid}/end",
        summary="End a schedule for good: no occurrence after today",
        responses=problems(*COMMUNITY, 403, codes=_CHANGE_CODES),
        guards=[requires(Scope.TREASURER)],
        status_code=HTTP_200_OK,
    )
    async def end_schedule(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        schedule_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> ScheduleOut:
        key = key_of(principal_of(request), idempotency_key)
        return ScheduleOut.of(await economy.schedules.end(community.id, schedule_id, key))


COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [SchedulesController]
"""Handlers under ``/communities/{slug}``."""
