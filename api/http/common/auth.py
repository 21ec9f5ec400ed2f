"""Bearer-token authentication, scope guards and the community a request may see.

A missing or unknown token is 401; a valid token lacking the scope is 403; a community, member or
resource the principal may not see answers 404, exactly as if it did not exist.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import re
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware._utils import should_bypass_middleware
from litestar.types import Guard, Receive, Send
from litestar.types import Scope as ASGIScope

from api.http.common.audit_context import actor_of
from api.http.common.request_log import request_id_of
from api.state import Services
from ledger.access.principals import BOOTSTRAP_ADMIN, Principal, Scope, secret_hash
from ledger.audit.chain import AuditContext, acting
from ledger.kernel import errors
from ledger.kernel.model import SLUG_PATTERN, Community

_SLUG = re.compile(SLUG_PATTERN)
_COMMUNITY_STATE = "commons_ledger_community"
_BEARER_STATE = "commons_ledger_bearer"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="commons-ledger"'}


@dataclass(frozen=True, slots=True)
class Bearer:
    """The request's bearer token and its :func:`secret_hash`, read and hashed once per request
    for the failed-authentication throttle and the authentication both."""

    token: str
    digest: str


def bearer_of(scope: ASGIScope) -> Bearer | None:
    """The ``Authorization: Bearer`` token of the request, or None (no header, another scheme,
    an empty token)."""
    state = scope.setdefault("state", {})
    if _BEARER_STATE in state:
        found: Bearer | None = state[_BEARER_STATE]
        return found
    found = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                found = Bearer(token, secret_hash(token))
            break
    state[_BEARER_STATE] = found
    return found


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Authenticates the request's bearer token, then runs the route in the principal's audit
    context (the actor every write of the request records, with its request id): one layer for
    both, since each layer costs every request."""

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        # Litestar's own test of its exclusions (paths, ``exclude_from_auth``, OPTIONS), as the
        # base class's ``__call__`` makes it.
        if should_bypass_middleware(
            exclude_http_methods=self.exclude_http_methods,
            exclude_opt_key=self.exclude_opt_key,
            exclude_path_pattern=self.exclude,
            scope=scope,
            scopes=self.scopes,
        ):
            await self.app(scope, receive, send)
            return
        principal = await self._principal(scope)
        scope["user"], scope["auth"] = principal, None
        with acting(AuditContext(actor_of(principal), request_id_of(scope))):
            await self.app(scope, receive, send)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        return AuthenticationResult(user=await self._principal(connection.scope), auth=None)

    async def _principal(self, scope: ASGIScope) -> Principal:
        bearer = bearer_of(scope)
        if bearer is None:
            raise NotAuthorizedException("a bearer token is required", headers=_CHALLENGE)
        services: Services = scope["app"].state.services
        if _is_admin(bearer, services.settings.admin_token):
            return BOOTSTRAP_ADMIN
        principal = await services.access.authenticate(bearer.token, digest=bearer.digest)
        if principal is None:
            raise NotAuthorizedException(
                "the token is unknown, revoked or expired", headers=_CHALLENGE
            )
        return principal


@functools.lru_cache(maxsize=4)
def _admin_digest(admin_token: str) -> str:
    return secret_hash(admin_token)


def _is_admin(bearer: Bearer, admin_token: str | None) -> bool:
    """Constant-time comparison with the operator's token (hashed once per process)."""
    return bool(admin_token) and hmac.compare_digest(
        bearer.digest, _admin_digest(admin_token or "")
    )


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
