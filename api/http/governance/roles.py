"""Role terms: who is a steward or a treasurer, and since and until when."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
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
)
from api.http.governance_schemas import RoleAssign, RoleTermOut
from api.http.schemas import Page
from ledger.access.credentials import Access
from ledger.governance.model import Role
from ledger.governance.service import Governance
from ledger.kernel.clock import utc_now
from ledger.kernel.model import Community

_HANDS_ON = [WRITE_MEMBERS, admin_or_treasurer_member]
"""Roles are people's: an admin key or a current treasurer hands them on."""


class RolesController(Controller):
    path = "/roles"
    tags = ("governance",)
    guards = (READ,)

    @post(
        summary="Assign a role (steward, treasurer) to a member for a term",
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=["invalid_input", "member_not_found", "not_a_treasurer", *IDEMPOTENT],
        ),
        guards=_HANDS_ON,
        status_code=HTTP_201_CREATED,
    )
    async def assign_role(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        access: NamedDependency[Access],
        data: JSONBody[RoleAssign],
        idempotency_key: IdempotencyHeader = None,
    ) -> RoleTermOut:
        term = await governance.roles.assign(
            community.id,
            data.member_id,
            Role(data.role),
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            by_member=acting_member(request),
            idempotency_key=key_of(principal_of(request), idempotency_key),
        )
        # The member's tokens gain or lose the role's powers with their next request here.
        access.forget_member(term.member_id)
        return RoleTermOut.of(term, utc_now())

    @get(
        summary="Role terms in assignment order: the history, or only the current ones",
        responses=problems(*COMMUNITY),
    )
    async def list_roles(
        self,
        *,
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        cursor: Cursor = None,
        limit: PageLimit = 50,
        current: Annotated[bool, QueryParameter(description="only terms current now")] = False,
    ) -> Page[RoleTermOut]:
        found = await governance.roles.list_terms(
            community.id,
            current=current,
            after=decode_cursor(cursor, uuid.UUID),
            limit=limit + 1,
        )
        now = utc_now()
        return page_of(found, limit, lambda t: RoleTermOut.of(t, now), lambda t: t.id)

    @get(
        "/{term_id:uuid}",
        summary="Read a role term",
        responses=problems(*COMMUNITY, codes=["role_term_not_found"]),
    )
    async def read_role(
        self,
        *,
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        term_id: FromPath[uuid.UUID],
    ) -> RoleTermOut:
        return RoleTermOut.of(await governance.roles.get(community.id, term_id), utc_now())

    @post(
        "/{term_id:uuid}/end",
        summary="End a role term now; its powers end with it",
        responses=problems(
            *COMMUNITY, 403, codes=["role_term_not_found", "not_a_treasurer", *IDEMPOTENT]
        ),
        guards=_HANDS_ON,
        status_code=HTTP_200_OK,
    )
    async def end_role(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        governance: NamedDependency[Governance],
        access: NamedDependency[Access],
        term_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> RoleTermOut:
        term = await governance.roles.end(
            community.id,
            term_id,
            by_member=acting_member(request),
            idempotency_key=key_of(principal_of(request), idempotency_key),
        )
        # The member's tokens gain or lose the role's powers with their next request here.
        access.forget_member(term.member_id)
        return RoleTermOut.of(term, utc_now())
