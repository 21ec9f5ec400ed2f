"""Restricted funds: money given for one purpose, and what it still holds.

Who may do what: a ``treasurer`` key creates a fund; a ``write`` key records income into it and
spending from it (the same scope that writes any transfer — every path out of the fund meets its
floor); ``read`` keys and member tokens read funds and their balances (a community-level
summary).
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
from api.http.economy_schemas import FundCreate, FundMovementCreate, FundOut
from api.http.schemas import EntryOut, Page
from ledger.access.principals import Scope
from ledger.economy.service import Economy
from ledger.kernel.model import Community

MOVEMENT_CODES = [
    "fund_not_found",
    "account_not_found",
    "invalid_input",
    "invalid_amount",
    "account_closed",
    "account_guarded",
    "unbalanced",
    "counter_overflow",
    "limit_exceeded",
    *IDEMPOTENT,
]


class FundsController(Controller):
    path = "/funds"
    tags = ("funds",)
    guards = (requires(Scope.READ, members=True),)

    @post(
        summary="Create a restricted fund: its own asset account under where the money sits",
        description=(
            "Opens `<held in>:<code>` (e.g. `Assets:Bank:Greenhouse`) in the holding account's "
            "commodity with a minimum balance of 0: spending can never take it below what it holds."
        ),
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "account_not_found",
                "account_closed",
                "account_code_exists",
                *IDEMPOTENT,
            ],
        ),
        guards=[requires(Scope.TREASURER)],
        status_code=HTTP_201_CREATED,
    )
    async def create_fund(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        data: JSONBody[FundCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> FundOut:
        view = await economy.funds.create(
            community.id,
            name=data.name,
            code=data.code,
            held_in_account_id=data.held_in_account_id,
            purpose=data.purpose,
            idempotency_key=key_of(principal_of(request), idempotency_key),
        )
        return FundOut.of(view)

    @get(
        summary="List restricted funds with their balances",
        responses=problems(*COMMUNITY),
    )
    async def list_funds(
        self,
        *,
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[FundOut]:
        found = await economy.funds.list_funds(
            community.id, after=decode_cursor(cursor, uuid.UUID), limit=limit + 1
        )
        return page_of(found, limit, FundOut.of, lambda view: view.fund.id)

    @get(
        "/{fund_id:uuid}",
        summary="Read a restricted fund and what it holds",
        responses=problems(*COMMUNITY, codes=["fund_not_found"]),
    )
    async def read_fund(
        self,
        *,
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        fund_id: FromPath[uuid.UUID],
    ) -> FundOut:
        return FundOut.of(await economy.funds.get(community.id, fund_id))

    @post(
        "/{fund_id:uuid}/income",
        summary="Record income tagged to the fund (debits the fund, credits the income account)",
        responses=problems(*COMMUNITY, 403, 413, codes=MOVEMENT_CODES),
        guards=[requires(Scope.WRITE)],
        status_code=HTTP_201_CREATED,
    )
    async def record_fund_income(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        fund_id: FromPath[uuid.UUID],
        data: JSONBody[FundMovementCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> EntryOut:
        entry = await economy.funds.receive(
            community.id,
            fund_id,
            data.to_domain(),
            key_of(principal_of(request), idempotency_key),
        )
        return EntryOut.of(entry, community.slug)

    @post(
        "/{fund_id:uuid}/spend",
        summary=(
            "Spend from the fund (debits the expense, credits the fund); never beyond its balance"
        ),
        description=(
            "`limit_exceeded` (422) when the fund, counting pending entries, holds less than "
            "`amount`; nothing is written."
        ),
        responses=problems(*COMMUNITY, 403, 413, codes=MOVEMENT_CODES),
        guards=[requires(Scope.WRITE)],
        status_code=HTTP_201_CREATED,
    )
    async def spend_from_fund(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        economy: NamedDependency[Economy],
        fund_id: FromPath[uuid.UUID],
        data: JSONBody[FundMovementCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> EntryOut:
        entry = await economy.funds.spend(
            community.id,
            fund_id,
            data.to_domain(),
            key_of(principal_of(request), idempotency_key),
        )
        return EntryOut.of(entry, community.slug)


COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [FundsController]
