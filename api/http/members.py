"""Members (each with an HOURS account) and their tokens."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, delete, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from api.http.access_schemas import CredentialOut, MemberTokenCreate, RevokedOut
from api.http.book_schemas import MemberCreate
from api.http.common.auth import principal_of, requires
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.common.visibility import check_member
from api.http.schemas import MemberOut, Page
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.books.service import Ledger
from ledger.kernel.model import Community


@post(
    "/members",
    summary="Add a member, opening their HOURS account",
    responses=problems(*COMMUNITY, 403, 413, codes=["invalid_input", *IDEMPOTENT]),
    guards=[requires(Scope.TREASURER)],
    tags=["members"],
)
async def create_member(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    data: JSONBody[MemberCreate],
    idempotency_key: IdempotencyHeader = None,
) -> MemberOut:
    member = await ledger.create_member(
        community.id,
        data.name,
        hours_min=data.hours_min,
        hours_max=data.hours_max,
        idempotency_key=key_of(principal_of(request), idempotency_key),
    )
    return MemberOut.of(member)


@get(
    "/members",
    summary="List members in the order they joined",
    responses=problems(*COMMUNITY),
    guards=[requires(Scope.READ, members=True)],
    tags=["members"],
)
async def list_members(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> Page[MemberOut]:
    principal = principal_of(request)
    if principal.is_member:
        assert principal.member_id is not None
        own = await ledger.get_member(community.id, principal.member_id)
        return Page([MemberOut.of(own)], None)
    found = await ledger.list_members(
        community.id, after=decode_cursor(cursor, uuid.UUID), limit=limit + 1
    )
    return page_of(found, limit, MemberOut.of, lambda member: member.id)


@get(
    "/members/{member_id:uuid}",
    summary="Read a member",
    responses=problems(*COMMUNITY, codes=["member_not_found"]),
    guards=[requires(Scope.READ, members=True)],
    tags=["members"],
)
async def read_member(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    member_id: FromPath[uuid.UUID],
) -> MemberOut:
    check_member(principal_of(request), member_id)
    return MemberOut.of(await ledger.get_member(community.id, member_id))


def _own_or_treasurer(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A member token acts on its own member only (others answer 404); anyone else needs the
    ``treasurer`` scope."""
    principal = principal_of(connection)
    if principal.is_member:
        check_member(principal, connection.path_params["member_id"])
    elif not principal.allows(Scope.TREASURER):
        raise PermissionDeniedException(f"this needs the {Scope.TREASURER} scope")


@post(
    "/members/{member_id:uuid}/tokens",
    summary="Issue a token that acts as this member; shown once",
    description=(
        "A treasurer issues tokens for members; a member, for themselves. A steward's or "
        "treasurer's token only the operator (an admin key) or that member may issue: only such "
        "a *personal* token acts in the member's governance roles."
    ),
    responses=problems(
        *COMMUNITY, 403, 413, codes=["member_not_found", "invalid_input", "role_holder_token"]
    ),
    guards=[requires(Scope.WRITE, members=True), _own_or_treasurer],
    tags=["access"],
)
async def issue_member_token(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    access: NamedDependency[Access],
    member_id: FromPath[uuid.UUID],
    data: JSONBody[MemberTokenCreate],
) -> CredentialOut:
    credential, token = await access.issue_member_token(
        community.id, member_id, data.name, data.expires_at, by=principal_of(request)
    )
    return CredentialOut.of(credential, token)


@delete(
    "/members/{member_id:uuid}/tokens",
    summary="Revoke every token and web session of this member at once",
    description=(
        "For a lost phone or a leaked token: every credential of the member still in force is "
        "revoked (their web sessions end with it). A member may do it for themselves."
    ),
    responses=problems(*COMMUNITY, 403, codes=["member_not_found"]),
    guards=[requires(Scope.WRITE, members=True), _own_or_treasurer],
    tags=["access"],
    status_code=HTTP_200_OK,
)
async def revoke_member_tokens(
    community: NamedDependency[Community],
    access: NamedDependency[Access],
    member_id: FromPath[uuid.UUID],
) -> RevokedOut:
    return RevokedOut(await access.revoke_member(community.id, member_id))


COMMUNITY_HANDLERS = [
    create_member,
    list_members,
    read_member,
    issue_member_token,
    revoke_member_tokens,
]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
