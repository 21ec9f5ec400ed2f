"""Who acts in this request, for the audit trail.

The principal authentication found becomes the audit actor (credential kind and id, member,
role) for every write the request makes, with the request's ``X-Request-ID``: the bearer
authentication (``auth.BearerAuthentication``) and the member page's session
(``api.web.session``) enter that context, no layer of its own.
"""

from __future__ import annotations

from ledger.access.principals import CredentialKind, Principal
from ledger.audit.chain import Actor


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
