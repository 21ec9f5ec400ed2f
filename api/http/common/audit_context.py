"""Tells the use cases, for the audit trail, who acts in this request and under which id.

Placed after authentication: the principal it found becomes the audit actor (credential kind and
id, member, role) for every write the request makes, with the request's ``X-Request-ID``.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from api.http.common.request_log import request_id_of
from ledger.access.principals import CredentialKind, Principal
from ledger.audit.chain import Actor, AuditContext, acting


def actor_of(principal: Principal) -> Actor:
    if principal.kind is CredentialKind.MEMBER:
        # A member acting in a governance role is recorded under it (treasurer before steward).
        role = max(principal.roles, default="member", key=lambda r: r == "treasurer")
    else:
        role = max(principal.scopes, key=lambda scope: scope.rank).value
    return Actor(
        kind=principal.kind.value,
        credential_id=principal.credential_id,
        member_id=principal.member_id,
        role=role,
    )


class AuditContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if not isinstance(user, Principal):
            await self.app(scope, receive, send)
            return
        with acting(AuditContext(actor_of(user), request_id_of(scope))):
            await self.app(scope, receive, send)
