"""Barter: trades in kind between two members, or a member and the community.

Who may do what: a ``write`` API key records a barter (the steward who witnessed the trade);
``read`` keys read every barter; a member token reads only the barters it takes part in, and
any other answers 404 as if it did not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from api.http.common.auth import principal_of, requires
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.economy_schemas import BarterCreate, BarterOut
from api.http.schemas import Page
from ledger.access.principals import Scope
from ledger.economy.barter import not_found
from ledger.economy.service import Economy
from ledger.kernel.model import Community


class BartersController(Controller):
    path = "/barters"
    tags = ("barters",)
    guards = (requires(Scope.READ, members=True),)

    @post(
        summary="Record a trade in kind: goods and/or hours each way, as one atomic entry",
        description=(
            "Two `sides`, each a member (or `null`: the community) and the items it gives. "
            "One posted entry of kind `barter` debits each receiver's and credits each giver's "
            "account in every item's commodity, so it balances per commodity. A member's account "
            "in a goods commodity (`member:<id>:EGGS`) is opened on first use in the same "
            "transaction; the community uses `Equity:HoursPool` and `Assets:Goods:<CODE>`. Any "
            "failing side — an unknown member or commodity, a limit — writes nothing."
        ),
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "invalid_amount",
                "member_not_found",
                "commodity_not_found",
                "account_closed",
                "counter_overflow",
                "limit_exceeded",
                *IDEMPOTENT,
            ],
        ),
        guards=[requires(Scope.WRITE)],
        status_code=HTTP_201_CREATED,
    )
    async def create_barter(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        data: JSONBody[BarterCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> BarterOut:
        first, second = (side.to_domain() for side in data.sides)
        barter = await economy.barters.record(
            community.id,
            (first, second),
            data.description,
            effective_date=data.effective_date,
            idempotency_key=key_of(principal_of(request), idempotency_key),
        )
        return BarterOut.of(barter)

    @get(
        summary="List barters in recorded order (a member token: those it takes part in)",
        responses=problems(*COMMUNITY),
    )
    async def list_barters(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[BarterOut]:
        principal = principal_of(request)
        found = await economy.barters.list_barters(
            community.id,
            member_id=principal.member_id if principal.is_member else None,
            after=decode_cursor(cursor, uuid.UUID),
            limit=limit + 1,
        )
        return page_of(found, limit, BarterOut.of, lambda barter: barter.id)

    @get(
        "/{barter_id:uuid}",
        summary="Read a barter",
        responses=problems(*COMMUNITY, codes=["entry_not_found"]),
    )
    async def read_barter(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        barter_id: FromPath[uuid.UUID],
    ) -> BarterOut:
        barter = await economy.barters.get(community.id, barter_id)
        principal = principal_of(request)
        if principal.is_member and not barter.involves(principal.member_id):
            raise not_found(barter_id)
        return BarterOut.of(barter)


COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [BartersController]
"""Handlers under ``/communities/{slug}``."""
