"""Web sessions: a member signs in with their member token and gets a session of their own.

A session is a credential of its own (``Access.start_session``: stored hashed, expiring,
revocable), so signing out revokes it server-side and an expired one authenticates nobody. It is
tied to the member token it was exchanged for: it expires no later than that token, and ends
when that token is revoked (or all the member's credentials are). The cookie holds only the
session's secret, never the member token, and that secret is no bearer token for the JSON API.
Every write the page makes is audited as the member, with the request's id.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.di import NamedDependency

from api.http.common.audit_context import actor_of
from api.http.common.request_log import request_id_of
from ledger.access.credentials import Access
from ledger.access.principals import CredentialKind, Principal
from ledger.audit.chain import AuditContext, acting
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, Member

SESSION_COOKIE: Final = "cl_session"


class SignInRequired(Exception):
    """The request needs a signed-in member; the page answers with the sign-in form."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in member of one request."""

    principal: Principal
    community: Community
    member: Member

    @property
    def session_id(self) -> uuid.UUID:
        return uuid.UUID(self.principal.credential_id)


async def member_of_token(access: Access, token: str) -> Principal | None:
    """The member principal a pasted member token stands for; None for anything else."""
    principal = await access.authenticate(token.strip())
    if principal is None or principal.kind is not CredentialKind.MEMBER:
        return None
    return principal


async def start_session(
    request: Request[Any, Any, Any], access: Access, principal: Principal, ttl: timedelta
) -> str:
    """A new session for the principal's member; returns its secret, for the cookie only."""
    with acting_as(request, principal):
        _, secret = await access.start_session(principal, ttl)
    return secret


def acting_as(
    request: Request[Any, Any, Any], principal: Principal
) -> AbstractContextManager[None]:
    """Writes made inside the block are audited as ``principal``'s, under the request's id."""
    return acting(AuditContext(actor_of(principal), request_id_of(request.scope)))


async def viewer_or_none(
    request: Request[Any, Any, Any], access: Access, ledger: Ledger
) -> Viewer | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    principal = await access.authenticate(secret, session=True)
    if principal is None or principal.community_id is None or principal.member_id is None:
        return None
    try:
        community = await ledger.get_community(principal.community_id)
        member = await ledger.get_member(principal.community_id, principal.member_id)
    except errors.NotFound:
        return None
    return Viewer(principal, community, member)


async def provide_viewer(
    request: Request[Any, Any, Any],
    access: NamedDependency[Access],
    ledger: NamedDependency[Ledger],
) -> Viewer:
    viewer = await viewer_or_none(request, access, ledger)
    if viewer is None:
        raise SignInRequired
    return viewer


def session_cookie(
    request: Request[Any, Any, Any], secret: str, ttl: timedelta, *, force_secure: bool = False
) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=secret,
        max_age=int(ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=force_secure or request.url.scheme == "https",
    )


def end_session_cookie(response: Response[Any]) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
