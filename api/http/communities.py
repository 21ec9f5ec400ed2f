"""Communities and their API keys."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import JSONBody

from api.http.access_schemas import ApiKeyCreate, CommunityCreate, CommunityOut, CredentialOut
from api.http.common.auth import principal_of, requires
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import API, COMMUNITY, IDEMPOTENT, problems
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.books.service import Ledger
from ledger.economy.service import Economy
from ledger.kernel.model import Community


@post(
    "/communities",
    summary="Create a community (operator's admin token), optionally with a starter chart",
    responses=problems(*API, 403, 413, codes=["community_exists", "invalid_input", *IDEMPOTENT]),
    guards=[requires(Scope.ADMIN)],
    tags=["communities"],
)
async def create_community(
    request: Request[Any, Any, Any],
    ledger: NamedDependency[Ledger],
    economy: NamedDependency[Economy],
    data: JSONBody[CommunityCreate],
    idempotency_key: IdempotencyHeader = None,
) -> CommunityOut:
    """Only the operator's bootstrap token may create communities; a community's own admin keys
    manage that community."""
    principal = principal_of(request)
    if principal.community_id is not None:
        raise PermissionDeniedException("only the operator's admin token creates communities")
    key = key_of(principal, idempotency_key)
    if data.template is None and data.currency is None:
        community = await ledger.create_community(data.slug, data.name, key)
    else:
        community, _ = await economy.charts.create_community(
            data.slug, data.name, template=data.template, currency=data.currency, key=key
        )
    return CommunityOut.of(community)


@get(
    "/",
    summary="Read a community",
    responses=problems(*COMMUNITY),
    guards=[requires(Scope.READ, members=True)],
    tags=["communities"],
)
async def read_community(community: NamedDependency[Community]) -> CommunityOut:
    return CommunityOut.of(community)


@post(
    "/api-keys",
    summary="Issue an API key; its token is shown once",
    responses=problems(*COMMUNITY, 403, 413, codes=["invalid_input"]),
    guards=[requires(Scope.ADMIN)],
    tags=["access"],
)
async def issue_api_key(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    access: NamedDependency[Access],
    data: JSONBody[ApiKeyCreate],
) -> CredentialOut:
    scopes = frozenset(Scope(name) for name in data.scopes)
    credential, token = await access.issue_api_key(
        community.id, data.name, scopes, data.expires_at, by=principal_of(request)
    )
    return CredentialOut.of(credential, token)


COMMUNITY_HANDLERS = [read_community, issue_api_key]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
