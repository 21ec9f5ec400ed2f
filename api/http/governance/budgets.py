"""Budgets: drafts, revisions, stewards' consent, adoption, and how the books compare."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.http.common.auth import principal_of
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.governance.guards import (
    READ,
    TREASURER,
    WRITE_MEMBERS,
    steward_acting,
    steward_member,
)
from api.http.governance_schemas import (
    BudgetCreate,
    BudgetOut,
    BudgetRevise,
    BudgetVsActualOut,
    CommentIn,
)
from api.http.schemas import Page
from ledger.governance.service import Governance
from ledger.kernel.model import Community


class BudgetsController(Controller):
    path = "/budgets"
    tags = ("governance",)
    guards = (READ,)

    @post(
        summary="Draft a budget: planned amounts per account group for a month, quarter or year",
        responses=problems(
            *COMMUNITY, 403, 413, codes=["invalid_input", "commodity_not_found", *IDEMPOTENT]
        ),
        guards=[TREASURER],
        status_code=HTTP_201_CREATED,
    )
    async def create_budget(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        data: JSONBody[BudgetCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> BudgetOut:
        budget = await governance.budgets.create(
            community.id,
            data.name,
            data.period,
            [line.to_domain() for line in data.lines],
            key_of(principal_of(request), idempotency_key),
        )
        return BudgetOut.of(budget)

    @get(
        summary="Every budget version, drafts included, in creation order",
        responses=problems(*COMMUNITY),
    )
    async def list_budgets(
        self,
        *,
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[BudgetOut]:
        found = await governance.budgets.list_budgets(
            community.id, after=decode_cursor(cursor, uuid.UUID), limit=limit + 1
        )
        return page_of(found, limit, BudgetOut.of, lambda b: b.id)

    @get(
        "/{budget_id:uuid}",
        summary="Read a budget version with its lines and consents",
        responses=problems(*COMMUNITY, codes=["budget_not_found"]),
    )
    async def read_budget(
        self,
        *,
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        budget_id: FromPath[uuid.UUID],
    ) -> BudgetOut:
        return BudgetOut.of(await governance.budgets.get(community.id, budget_id))

    @get(
        "/{budget_id:uuid}/actual",
        summary="Budget vs actual per line: posted, pending, variance and share used",
        responses=problems(*COMMUNITY, codes=["budget_not_found"]),
    )
    async def read_budget_actual(
        self,
        *,
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        budget_id: FromPath[uuid.UUID],
    ) -> BudgetVsActualOut:
        return BudgetVsActualOut.of(await governance.budgets.vs_actual(community.id, budget_id))

    @post(
        "/{budget_id:uuid}/revisions",
        summary="Draft a revision of an adopted budget, to supersede it from a date once adopted",
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "commodity_not_found",
                "budget_not_found",
                "budget_not_draft",
                "budget_superseded",
                *IDEMPOTENT,
            ],
        ),
        guards=[TREASURER],
        status_code=HTTP_201_CREATED,
    )
    async def revise_budget(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        budget_id: FromPath[uuid.UUID],
        data: JSONBody[BudgetRevise],
        idempotency_key: IdempotencyHeader = None,
    ) -> BudgetOut:
        budget = await governance.budgets.revise(
            community.id,
            budget_id,
            lines=[line.to_domain() for line in data.lines],
            effective_from=data.effective_from,
            name=data.name,
            idempotency_key=key_of(principal_of(request), idempotency_key),
        )
        return BudgetOut.of(budget)

    @post(
        "/{budget_id:uuid}/consents",
        summary="A current steward consents to a draft; the consent that meets the rule adopts it",
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "budget_not_found",
                "budget_not_draft",
                "budget_superseded",
                "not_a_steward",
                *IDEMPOTENT,
            ],
        ),
        guards=[WRITE_MEMBERS, steward_member],
        status_code=HTTP_200_OK,
    )
    async def consent_budget(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        budget_id: FromPath[uuid.UUID],
        data: JSONBody[CommentIn],
        idempotency_key: IdempotencyHeader = None,
    ) -> BudgetOut:
        budget = await governance.budgets.consent(
            community.id,
            budget_id,
            steward_acting(request),
            data.comment,
            key_of(principal_of(request), idempotency_key),
        )
        return BudgetOut.of(budget)

    @post(
        "/{budget_id:uuid}/adopt",
        summary="Adopt a draft whose consents meet the community's rule now",
        responses=problems(
            *COMMUNITY,
            403,
            codes=["budget_not_found", "consent_missing", "budget_superseded", *IDEMPOTENT],
        ),
        guards=[TREASURER],
        status_code=HTTP_200_OK,
    )
    async def adopt_budget(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        budget_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> BudgetOut:
        budget = await governance.budgets.adopt(
            community.id, budget_id, key_of(principal_of(request), idempotency_key)
        )
        return BudgetOut.of(budget)
