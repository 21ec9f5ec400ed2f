"""The governance settings (consent rule, approvals, the fund's account) and the emergency fund:
its status, and disbursements that post once enough stewards approve."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.http.common.auth import principal_of
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.governance.guards import (
    READ,
    WRITE_MEMBERS,
    acting_member,
    admin_or_treasurer_member,
    steward_acting,
    steward_member,
    treasurer_or_steward,
)
from api.http.governance_schemas import (
    CommentIn,
    DisbursementCreate,
    DisbursementOut,
    FundStatusOut,
    GovernanceSettingsIn,
    GovernanceSettingsOut,
)
from api.http.schemas import Page
from ledger.governance.model import DisbursementStatus
from ledger.governance.service import Governance
from ledger.kernel.model import Community


class SettingsController(Controller):
    path = "/governance"
    tags = ("governance",)
    guards = (READ,)

    @get(
        summary="The community's governance settings: consent rule, approvals, emergency fund",
        responses=problems(*COMMUNITY),
    )
    async def read_governance_settings(
        self, community: NamedDependency[Community], governance: NamedDependency[Governance]
    ) -> GovernanceSettingsOut:
        return GovernanceSettingsOut.of(await governance.fund.settings(community.id))

    @put(
        summary="Replace the community's governance settings",
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "account_not_found",
                "limits_violated_by_balance",
                "not_a_treasurer",
                *IDEMPOTENT,
            ],
        ),
        guards=[WRITE_MEMBERS, admin_or_treasurer_member],
    )
    async def update_governance_settings(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        data: JSONBody[GovernanceSettingsIn],
        idempotency_key: IdempotencyHeader = None,
    ) -> GovernanceSettingsOut:
        settings = await governance.fund.configure(
            community.id,
            data.to_domain(community.id),
            by_member=acting_member(request),
            idempotency_key=key_of(principal_of(request), idempotency_key),
        )
        return GovernanceSettingsOut.of(settings)


StatusFilter = Annotated[
    DisbursementStatus | None,
    QueryParameter(description="only requests in this status"),
]

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
_STEWARD = [WRITE_MEMBERS, steward_member]
"""An approval or a rejection is a person's: a current steward's member token only."""


class EmergencyFundController(Controller):
    path = "/emergency-fund"
    tags = ("governance",)
    guards = (READ,)

    @get(
        summary="The emergency fund: balance, what pending requests reserve, and its target",
        responses=problems(*COMMUNITY, codes=["fund_not_configured"]),
    )
    async def read_emergency_fund(
        self, community: NamedDependency[Community], governance: NamedDependency[Governance]
    ) -> FundStatusOut:
        return FundStatusOut.of(await governance.fund.status(community.id))

    @post(
        "/disbursements",
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
        guards=[WRITE_MEMBERS, treasurer_or_steward],
        status_code=HTTP_201_CREATED,
    )
    async def request_disbursement(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        data: JSONBody[DisbursementCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> DisbursementOut:
        disbursement = await governance.fund.request(
            community.id,
            payee_account_id=data.payee_account_id,
            amount=data.amount,
            reason=data.reason,
            deadline_at=data.deadline_at,
            requested_by=acting_member(request),
            idempotency_key=key_of(principal_of(request), idempotency_key),
        )
        return DisbursementOut.of(disbursement)

    @get(
        "/disbursements",
        summary="Disbursement requests in the order they were made",
        responses=problems(*COMMUNITY),
    )
    async def list_disbursements(
        self,
        *,
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        cursor: Cursor = None,
        limit: PageLimit = 50,
        status: StatusFilter = None,
    ) -> Page[DisbursementOut]:
        found = await governance.fund.list_requests(
            community.id,
            status=None if status is None else DisbursementStatus(status),
            after=decode_cursor(cursor, uuid.UUID),
            limit=limit + 1,
        )
        return page_of(found, limit, DisbursementOut.of, lambda d: d.id)

    @get(
        "/disbursements/{disbursement_id:uuid}",
        summary="Read a disbursement request with every step (who, when, comment)",
        responses=problems(*COMMUNITY, codes=["disbursement_not_found"]),
    )
    async def read_disbursement(
        self,
        *,
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        disbursement_id: FromPath[uuid.UUID],
    ) -> DisbursementOut:
        return DisbursementOut.of(await governance.fund.get(community.id, disbursement_id))

    @post(
        "/disbursements/{disbursement_id:uuid}/approve",
        summary=(
            "A current steward approves; the approval that reaches the number required posts it"
        ),
        responses=problems(*COMMUNITY, 403, 413, codes=[*_DECISION_CODES, "self_approval"]),
        guards=_STEWARD,
        status_code=HTTP_200_OK,
    )
    async def approve_disbursement(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        disbursement_id: FromPath[uuid.UUID],
        data: JSONBody[CommentIn],
        idempotency_key: IdempotencyHeader = None,
    ) -> DisbursementOut:
        done = await governance.fund.approve(
            community.id,
            disbursement_id,
            steward_acting(request),
            data.comment,
            key_of(principal_of(request), idempotency_key),
        )
        return DisbursementOut.of(done)

    @post(
        "/disbursements/{disbursement_id:uuid}/reject",
        summary="A current steward rejects: the request is voided and its reservation released",
        responses=problems(*COMMUNITY, 403, 413, codes=_DECISION_CODES),
        guards=_STEWARD,
        status_code=HTTP_200_OK,
    )
    async def reject_disbursement(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        disbursement_id: FromPath[uuid.UUID],
        data: JSONBody[CommentIn],
        idempotency_key: IdempotencyHeader = None,
    ) -> DisbursementOut:
        done = await governance.fund.reject(
            community.id,
            disbursement_id,
            steward_acting(request),
            data.comment,
            key_of(principal_of(request), idempotency_key),
        )
        return DisbursementOut.of(done)
