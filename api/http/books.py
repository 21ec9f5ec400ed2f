"""Community-level books: commodities and the trial balance."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.http.book_schemas import CommodityCreate, TrialBalanceOut
from api.http.common.auth import principal_of, requires
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import AsOf
from api.http.schemas import CommodityOut, Page
from ledger.access.principals import Scope
from ledger.books.service import Ledger
from ledger.kernel.model import Community


@post(
    "/commodities",
    summary="Add a money or goods unit",
    responses=problems(
        *COMMUNITY, 403, 413, codes=["commodity_exists", "invalid_input", *IDEMPOTENT]
    ),
    guards=[requires(Scope.TREASURER)],
    tags=["books"],
)
async def add_commodity(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    data: JSONBody[CommodityCreate],
    idempotency_key: IdempotencyHeader = None,
) -> CommodityOut:
    return CommodityOut.of(
        await ledger.add_commodity(
            community.id,
            data.code,
            data.name,
            data.scale,
            key_of(principal_of(request), idempotency_key),
        )
    )


@get(
    "/commodities",
    summary="The community's units of account",
    responses=problems(*COMMUNITY),
    guards=[requires(Scope.READ, members=True)],
    tags=["books"],
)
async def list_commodities(
    community: NamedDependency[Community], ledger: NamedDependency[Ledger]
) -> Page[CommodityOut]:
    # A community has a handful of units: one page holds them all.
    found = await ledger.list_commodities(community.id)
    return Page([CommodityOut.of(commodity) for commodity in found], None)


@get(
    "/trial-balance",
    summary="Every account's balance per commodity; debits equal credits",
    responses=problems(*COMMUNITY, 403),
    guards=[requires(Scope.READ)],
    tags=["books"],
)
async def read_trial_balance(
    community: NamedDependency[Community], ledger: NamedDependency[Ledger], as_of: AsOf = None
) -> TrialBalanceOut:
    trial = await ledger.trial_balance(community.id, as_of)
    return TrialBalanceOut.of(trial)


COMMUNITY_HANDLERS = [add_commodity, list_commodities, read_trial_balance]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
