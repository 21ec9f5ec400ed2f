"""Bearer-token authentication, scope guards and the community a request may see.

A missing or unknown token is 401; a valid token lacking the scope is 403; a community, member or
resource the principal may not see answers 404, exactly as if it did not exist.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Guard

from api.state import Services
from ledger.access.principals import BOOTSTRAP_ADMIN, Principal, Scope, secrets_match
from ledger.kernel import errors
from ledger.kernel.model import SLUG_PATTERN, Community

_SLUG = re.compile(SLUG_PATTERN)
_COMMUNITY_STATE = "commons_ledger_community"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="commons-ledger"'}


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("a bearer token is required", headers=_CHALLENGE)
        services = Services.of(connection)
        admin_token = services.settings.admin_token
        if admin_token and secrets_match(token, admin_token):
            return AuthenticationResult(user=BOOTSTRAP_ADMIN, auth=None)
        principal = await services.access.authenticate(token)
        if principal is None:
            raise NotAuthorizedException(
                "the token is unknown, revoked or expired", headers=_CHALLENGE
            )
        return AuthenticationResult(user=principal, auth=None)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    assert isinstance(user, Principal), "the authentication middleware sets the principal"
    return user


def requires(scope: Scope, *, members: bool = False) -> Guard:
    """A guard: the principal may enter the path's community (else 404, before anything else,
    so a foreign token learns nothing) and holds ``scope`` (else 403). Member tokens pass only
    where ``members`` is set; the handler then limits them to their own resources."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if isinstance(connection, Request) and connection.method == "OPTIONS":
            # Litestar runs a controller's guards for the OPTIONS answer it generates too
            # (litestar#2314); that answer names the allowed methods to anyone, unauthenticated.
            return
        principal = principal_of(connection)
        if "slug" in connection.path_params:
            await community_of(connection)
        if principal.is_member and not members:
            raise PermissionDeniedException("a member token cannot do this")
        if not principal.allows(scope):
            raise PermissionDeniedException(f"this needs the {scope} scope")

    return guard


async def community_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Community:
    """The community of the path, if the principal may enter it; otherwise 404. Looked up once
    per request."""
    cached = connection.state.get(_COMMUNITY_STATE)
    if isinstance(cached, Community):
        return cached
    slug = str(connection.path_params["slug"])
    services = Services.of(connection)
    community = services.communities_by_slug.get(slug)
    if community is None and _SLUG.match(slug):
        with contextlib.suppress(errors.CommunityNotFound):
            community = await services.ledger.get_community_by_slug(slug)
            services.communities_by_slug[slug] = community
    if community is None or not principal_of(connection).may_enter(community.id):
        raise NotFoundException(f"community {slug!r} does not exist")
    connection.state[_COMMUNITY_STATE] = community
    return community


async def provide_community(request: Request[Any, Any, Any]) -> Community:
    return await community_of(request)
