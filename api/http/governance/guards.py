"""Who may act in governance, and as which member (the grid is in the package's docstring)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.http.common.auth import principal_of, requires
from ledger.access.principals import CredentialKind, Scope

READ = requires(Scope.READ, members=True)
"""Every governance controller's guard: every write guard below implies it, so a route adds only
what its write needs."""
WRITE_MEMBERS = requires(Scope.WRITE, members=True)
TREASURER = requires(Scope.TREASURER)


def acting_member(request: Request[Any, Any, Any]) -> uuid.UUID | None:
    """The member behind a member token, recorded as the one who acted; ``None`` for a key."""
    principal = principal_of(request)
    return principal.member_id if principal.kind is CredentialKind.MEMBER else None


def steward_acting(request: Request[Any, Any, Any]) -> uuid.UUID:
    """The member behind a steward-only route (:func:`steward_member` lets only them through)."""
    member_id = acting_member(request)
    assert member_id is not None, "the guard lets only member tokens through"
    return member_id


def admin_or_treasurer_member(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    principal = principal_of(connection)
    if not principal.is_treasurer_member and not principal.allows(Scope.ADMIN):
        raise PermissionDeniedException("this needs the admin scope or a current treasurer")


def steward_member(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not principal_of(connection).is_steward:
        raise PermissionDeniedException("this needs the member token of a current steward")


def treasurer_or_steward(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    principal = principal_of(connection)
    if not principal.is_steward and not principal.allows(Scope.TREASURER):
        raise PermissionDeniedException("this needs the treasurer scope or a current steward")
