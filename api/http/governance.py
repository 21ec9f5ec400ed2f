"""Governance: rotating roles, governance settings, budgets and the emergency fund.

Who may do what (``tests/api/test_authorisation_matrix.py`` has the grid):

- read anything here: ``read`` API keys and every member token (community-level summaries);
- assign or end role terms, change the settings: an ``admin`` API key, or the member token of a
  current treasurer (a ``treasurer`` API key cannot: roles are people's, so a treasurer in office
  hands them on);
- create, revise and adopt budgets: the ``treasurer`` scope — a treasurer API key or a current
  treasurer's member token;
- consent to a budget, approve or reject a disbursement: the member token of a current steward
  only (a consent or an approval is a person's); the term is checked again in the transaction
  that writes, so a term that ended after the token authenticated grants nothing;
- request a disbursement: the ``treasurer`` scope, or a current steward's member token.

Every write takes an optional ``Idempotency-Key`` header.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Request, get, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.http.common.auth import principal_of, requires
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.governance_schemas import (
    BudgetCreate,
    BudgetOut,
    BudgetRevise,
    BudgetVsActualOut,
    CommentIn,
    DisbursementCreate,
    DisbursementOut,
    FundStatusOut,
    GovernanceSettingsIn,
    GovernanceSettingsOut,
    RoleAssign,
    RoleTermOut,
)
from api.http.schemas import Page
from api.state import Services
from ledger.access.principals import CredentialKind, Scope
from ledger.governance.model import DisbursementStatus, Role
from ledger.governance.service import Governance
from ledger.kernel.clock import utc_now
from ledger.kernel.model import Community


def _governance(request: Request[Any, Any, Any]) -> Governance:
    return Services.of(request).governance


def _acting_member(request: Request[Any, Any, Any]) -> uuid.UUID | None:
    principal = principal_of(request)
    return principal.member_id if principal.kind is CredentialKind.MEMBER else None


def _steward_acting(request: Request[Any, Any, Any]) -> uuid.UUID:
    """The member behind a steward-only route (``_steward_member`` lets only them through)."""
    member_id = _acting_member(request)
    assert member_id is not None, "the guard lets only member tokens through"
    return member_id


def _admin_or_treasurer_member(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    principal = principal_of(connection)
    if not principal.is_treasurer_member and not principal.allows(Scope.ADMIN):
        raise PermissionDeniedException("this needs the admin scope or a current treasurer")


def _steward_member(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not principal_of(connection).is_steward:
        raise PermissionDeniedException("this needs the member token of a current steward")


def _treasurer_or_steward(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    principal = principal_of(connection)
    if not principal.is_steward and not principal.allows(Scope.TREASURER):
        raise PermissionDeniedException("this needs the treasurer scope or a current steward")


READ = [requires(Scope.READ, members=True)]
WRITE_MEMBERS = requires(Scope.WRITE, members=True)

# Roles ---------------------------------------------------------------------------------------


@post(
    "/roles",
    summary="Assign a role (steward, treasurer) to a member for a term",
    responses=problems(
        *COMMUNITY,
        403,
        413,
        codes=["invalid_input", "member_not_found", "not_a_treasurer", *IDEMPOTENT],
    ),
    guards=[WRITE_MEMBERS, _admin_or_treasurer_member],
    status_code=HTTP_201_CREATED,
    tags=["governance"],
)
async def assign_role(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    data: JSONBody[RoleAssign],
    idempotency_key: IdempotencyHeader = None,
) -> RoleTermOut:
    term = await _governance(request).roles.assign(
        community.id,
        data.member_id,
        Role(data.role),
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        by_member=_acting_member(request),
        idempotency_key=key_of(principal_of(request), idempotency_key),
    )
    # The member's tokens gain or lose the role's powers with their next request here.
    Services.of(request).access.forget_member(term.member_id)
    return RoleTermOut.of(term, utc_now())


@get(
    "/roles",
    summary="Role terms in assignment order: the history, or only the current ones",
    responses=problems(*COMMUNITY),
    guards=READ,
    tags=["governance"],
)
async def list_roles(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    *,
    cursor: Cursor = None,
    limit: PageLimit = 50,
    current: Annotated[bool, QueryParameter(description="only terms current now")] = False,
) -> Page[RoleTermOut]:
    found = await _governance(request).roles.list_terms(
        community.id,
        current=current,
        after=decode_cursor(cursor, uuid.UUID),
        limit=limit + 1,
    )
    now = utc_now()
    return page_of(found, limit, lambda t: RoleTermOut.of(t, now), lambda t: t.id)


@get(
    "/roles/{term_id:uuid}",
    summary="Read a role term",
    responses=problems(*COMMUNITY, codes=["role_term_not_found"]),
    guards=READ,
    tags=["governance"],
)
async def read_role(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    term_id: FromPath[uuid.UUID],
) -> RoleTermOut:
    return RoleTermOut.of(await _governance(request).roles.get(community.id, term_id), utc_now())


@post(
    "/roles/{term_id:uuid}/end",
    summary="End a role term now; its powers end with it",
    responses=problems(
        *COMMUNITY, 403, codes=["role_term_not_found", "not_a_treasurer", *IDEMPOTENT]
    ),
    guards=[WRITE_MEMBERS, _admin_or_treasurer_member],
    status_code=HTTP_200_OK,
    tags=["governance"],
)
async def end_role(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    term_id: FromPath[uuid.UUID],
    idempotency_key: IdempotencyHeader = None,
) -> RoleTermOut:
    term = await _governance(request).roles.end(
        community.id,
        term_id,
        by_member=_acting_member(request),
        idempotency_key=key_of(principal_of(request), idempotency_key),
    )
    # The member's tokens gain or lose the role's powers with their next request here.
    Services.of(request).access.forget_member(term.member_id)
    return RoleTermOut.of(term, utc_now())


# Settings ------------------------------------------------------------------------------------


@get(
    "/governance",
    summary="The community's governance settings: consent rule, approvals, emergency fund",
    responses=problems(*COMMUNITY),
    guards=READ,
    tags=["governance"],
)
async def read_settings(
    request: Request[Any, Any, Any], community: NamedDependency[Community]
) -> GovernanceSettingsOut:
    return GovernanceSettingsOut.of(await _governance(request).fund.settings(community.id))


@put(
    "/governance",
    summary="Replace the community's governance settings",
    responses=problems(
        *COMMUNITY,
        403,
        413,
        codes=["invalid_input", "account_not_found", "not_a_treasurer", *IDEMPOTENT],
    ),
    guards=[WRITE_MEMBERS, _admin_or_treasurer_member],
    tags=["governance"],
)
async def put_settings(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    data: JSONBody[GovernanceSettingsIn],
    idempotency_key: IdempotencyHeader = None,
) -> GovernanceSettingsOut:
    settings = await _governance(request).fund.configure(
        community.id,
        data.to_domain(community.id),
        by_member=_acting_member(request),
        idempotency_key=key_of(principal_of(request), idempotency_key),
    )
    return GovernanceSettingsOut.of(settings)


# Budgets -------------------------------------------------------------------------------------

BUDGET_WRITE = [requires(Scope.TREASURER)]


@post(
    "/budgets",
    summary="Draft a budget: planned amounts per account group for a month, quarter or year",
    responses=problems(
        *COMMUNITY, 403, 413, codes=["invalid_input", "commodity_not_found", *IDEMPOTENT]
    ),
    guards=BUDGET_WRITE,
    status_code=HTTP_201_CREATED,
    tags=["governance"],
)
async def create_budget(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    data: JSONBody[BudgetCreate],
    idempotency_key: IdempotencyHeader = None,
) -> BudgetOut:
    budget = await _governance(request).budgets.create(
        community.id,
        data.name,
        data.period,
        [line.to_domain() for line in data.lines],
        key_of(principal_of(request), idempotency_key),
    )
    return BudgetOut.of(budget)


@get(
    "/budgets",
    summary="Every budget version, drafts included, in creation order",
    responses=problems(*COMMUNITY),
    guards=READ,
    tags=["governance"],
)
async def list_budgets(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> Page[BudgetOut]:
    found = await _governance(request).budgets.list_budgets(
        community.id, after=decode_cursor(cursor, uuid.UUID), limit=limit + 1
    )
    return page_of(found, limit, BudgetOut.of, lambda b: b.id)


@get(
    "/budgets/{budget_id:uuid}",
    summary="Read a budget version with its lines and consents",
    responses=problems(*COMMUNITY, codes=["budget_not_found"]),
    guards=READ,
    tags=["governance"],
)
async def read_budget(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    budget_id: FromPath[uuid.UUID],
) -> BudgetOut:
    return BudgetOut.of(await _governance(request).budgets.get(community.id, budget_id))


@get(
    "/budgets/{budget_id:uuid}/actual",
    summary="Budget vs actual per line: posted, pending, variance and share used",
    responses=problems(*COMMUNITY, codes=["budget_not_found"]),
    guards=READ,
    tags=["governance"],
)
async def budget_actual(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    budget_id: FromPath[uuid.UUID],
) -> BudgetVsActualOut:
    return BudgetVsActualOut.of(
        await _governance(request).budgets.vs_actual(community.id, budget_id)
    )


@post(
    "/budgets/{budget_id:uuid}/revisions",
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
    guards=BUDGET_WRITE,
    status_code=HTTP_201_CREATED,
    tags=["governance"],
)
async def revise_budget(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    budget_id: FromPath[uuid.UUID],
    data: JSONBody[BudgetRevise],
    idempotency_key: IdempotencyHeader = None,
) -> BudgetOut:
    budget = await _governance(request).budgets.revise(
        community.id,
        budget_id,
        lines=[line.to_domain() for line in data.lines],
        effective_from=data.effective_from,
        name=data.name,
        idempotency_key=key_of(principal_of(request), idempotency_key),
    )
    return BudgetOut.of(budget)


@post(
    "/budgets/{budget_id:uuid}/consents",
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
    guards=[WRITE_MEMBERS, _steward_member],
    status_code=HTTP_200_OK,
    tags=["governance"],
)
async def consent_budget(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    budget_id: FromPath[uuid.UUID],
    data: JSONBody[CommentIn],
    idempotency_key: IdempotencyHeader = None,
) -> BudgetOut:
    member_id = _steward_acting(request)
    budget = await _governance(request).budgets.consent(
        community.id,
        budget_id,
        member_id,
        data.comment,
        key_of(principal_of(request), idempotency_key),
    )
    return BudgetOut.of(budget)


@post(
    "/budgets/{budget_id:uuid}/adopt",
    summary="Adopt a draft whose consents meet the community's rule now",
    responses=problems(
        *COMMUNITY,
        403,
        codes=["budget_not_found", "consent_missing", "budget_superseded", *IDEMPOTENT],
    ),
    guards=BUDGET_WRITE,
    status_code=HTTP_200_OK,
    tags=["governance"],
)
async def adopt_budget(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    budget_id: FromPath[uuid.UUID],
    idempotency_key: IdempotencyHeader = None,
) -> BudgetOut:
    budget = await _governance(request).budgets.adopt(
        community.id, budget_id, key_of(principal_of(request), idempotency_key)
    )
    return BudgetOut.of(budget)


# Emergency fund ------------------------------------------------------------------------------

FUND = "/emergency-fund"
StatusFilter = Annotated[
    Literal["pending", "approved", "rejected", "expired"] | None,
    QueryParameter(description="only requests in this status"),
]


@get(
    FUND,
    summary="The emergency fund: balance, what pending requests reserve, and its target",
    responses=problems(*COMMUNITY, codes=["fund_not_configured"]),
    guards=READ,
    tags=["governance"],
)
async def fund_status(
    request: Request[Any, Any, Any], community: NamedDependency[Community]
) -> FundStatusOut:
    return FundStatusOut.of(await _governance(request).fund.status(community.id))


@post(
    f"{FUND}/disbursements",
    summary="Request a disbursement: a pending entry that posts once enough stewards approve",
    responses=problems(
        *COMMUNITY,
        403,
        413,
        codes=[
            "invalid_input",
            "invalid_amount",
            "account_not_found",
            "fund_not_configured",
            "not_a_steward",
            "limit_exceeded",
            "account_closed",
            "counter_overflow",
            *IDEMPOTENT,
        ],
    ),
    guards=[WRITE_MEMBERS, _treasurer_or_steward],
    status_code=HTTP_201_CREATED,
    tags=["governance"],
)
async def request_disbursement(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    data: JSONBody[DisbursementCreate],
    idempotency_key: IdempotencyHeader = None,
) -> DisbursementOut:
    disbursement = await _governance(request).fund.request(
        community.id,
        payee_account_id=data.payee_account_id,
        amount=data.amount,
        reason=data.reason,
        deadline_at=data.deadline_at,
        requested_by=_acting_member(request),
        idempotency_key=key_of(principal_of(request), idempotency_key),
    )
    return DisbursementOut.of(disbursement)


@get(
    f"{FUND}/disbursements",
    summary="Disbursement requests in the order they were made",
    responses=problems(*COMMUNITY),
    guards=READ,
    tags=["governance"],
)
async def list_disbursements(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    cursor: Cursor = None,
    limit: PageLimit = 50,
    status: StatusFilter = None,
) -> Page[DisbursementOut]:
    found = await _governance(request).fund.list_requests(
        community.id,
        status=None if status is None else DisbursementStatus(status),
        after=decode_cursor(cursor, uuid.UUID),
        limit=limit + 1,
    )
    return page_of(found, limit, DisbursementOut.of, lambda d: d.id)


@get(
    f"{FUND}/disbursements/{{disbursement_id:uuid}}",
    summary="Read a disbursement request with every step (who, when, comment)",
    responses=problems(*COMMUNITY, codes=["disbursement_not_found"]),
    guards=READ,
    tags=["governance"],
)
async def read_disbursement(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    disbursement_id: FromPath[uuid.UUID],
) -> DisbursementOut:
    return DisbursementOut.of(await _governance(request).fund.get(community.id, disbursement_id))


_DECISION_CODES = [
    "invalid_input",
    "disbursement_not_found",
    "disbursement_not_pending",
    "not_a_steward",
    "entry_not_pending",
    "counter_overflow",
    "limit_exceeded",
    *IDEMPOTENT,
]


@post(
    f"{FUND}/disbursements/{{disbursement_id:uuid}}/approve",
    summary="A current steward approves; the approval that reaches the number required posts it",
    responses=problems(*COMMUNITY, 403, 413, codes=[*_DECISION_CODES, "self_approval"]),
    guards=[WRITE_MEMBERS, _steward_member],
    status_code=HTTP_200_OK,
    tags=["governance"],
)
async def approve_disbursement(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    disbursement_id: FromPath[uuid.UUID],
    data: JSONBody[CommentIn],
    idempotency_key: IdempotencyHeader = None,
) -> DisbursementOut:
    member_id = _steward_acting(request)
    done = await _governance(request).fund.approve(
        community.id,
        disbursement_id,
        member_id,
        data.comment,
        key_of(principal_of(request), idempotency_key),
    )
    return DisbursementOut.of(done)


@post(
    f"{FUND}/disbursements/{{disbursement_id:uuid}}/reject",
    summary="A current steward rejects: the request is voided and its reservation released",
    responses=problems(*COMMUNITY, 403, 413, codes=_DECISION_CODES),
    guards=[WRITE_MEMBERS, _steward_member],
    status_code=HTTP_200_OK,
    tags=["governance"],
)
async def reject_disbursement(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    disbursement_id: FromPath[uuid.UUID],
    data: JSONBody[CommentIn],
    idempotency_key: IdempotencyHeader = None,
) -> DisbursementOut:
    member_id = _steward_acting(request)
    done = await _governance(request).fund.reject(
        community.id,
        disbursement_id,
        member_id,
        data.comment,
        key_of(principal_of(request), idempotency_key),
    )
    return DisbursementOut.of(done)


COMMUNITY_HANDLERS = [
    assign_role,
    list_roles,
    read_role,
    end_role,
    read_settings,
    put_settings,
    create_budget,
    list_budgets,
    read_budget,
    budget_actual,
    revise_budget,
    consent_budget,
    adopt_budget,
    fund_status,
    request_disbursement,
    list_disbursements,
    read_disbursement,
    approve_disbursement,
    reject_disbursement,
]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
