"""The wire format of communities and credentials (API keys, member tokens)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from api.http.schemas import ChartTemplate, CommodityCode, Name, Request, Slug
from ledger.access.principals import Credential, CredentialKind, IssuerKind, Scope
from ledger.kernel.model import Community


class CommunityCreate(Request, frozen=True):
    slug: Slug
    name: Annotated[Name, msgspec.Meta(examples=["Garden Club Time Bank"])]
    template: ChartTemplate | None = None
    """A starter chart of accounts to open with the community, in the same transaction."""
    currency: CommodityCode | None = None
    """The money commodity (scale 2) to start with; the template's (default ``EUR``)."""


class CommunityOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime

    @staticmethod
    def of(community: Community) -> CommunityOut:
        return CommunityOut(community.id, community.slug, community.name, community.created_at)


class ApiKeyCreate(Request, frozen=True):
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=4, examples=[["write"]])]
    name: Name = "API key"
    expires_at: datetime | None = None


class MemberTokenCreate(Request, frozen=True):
    name: Annotated[Name, msgspec.Meta(examples=["Ann's phone"])] = "Member token"
    expires_at: datetime | None = None


class IssuerOut(msgspec.Struct, frozen=True):
    kind: IssuerKind
    """The operator (the bootstrap token or a command-line tool), an API key or a member
    token."""
    credential_id: uuid.UUID | None
    """The issuing API key or member token; null for the operator."""


class CredentialOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    kind: CredentialKind
    name: str
    scopes: list[Scope]
    member_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    issued_by: IssuerOut
    personal: bool
    """A member token the operator or the member themselves issued: only such a token acts in
    the member's governance roles (steward, treasurer)."""
    token: str
    """The secret bearer token. Shown in this response only; store it now."""

    @staticmethod
    def of(credential: Credential, token: str) -> CredentialOut:
        issuer = credential.issued_by
        assert issuer is not None, "a credential issued now records its issuer"
        return CredentialOut(
            id=credential.id,
            kind=credential.kind,
            name=credential.name,
            scopes=sorted(credential.scopes),
            member_id=credential.member_id,
            created_at=credential.created_at,
            expires_at=credential.expires_at,
            issued_by=IssuerOut(issuer.kind, issuer.credential_id),
            personal=credential.personal,
            token=token,
        )


class RevokedOut(msgspec.Struct, frozen=True):
    revoked: int
    """How many credentials (tokens and web sessions) this revoked; 0 if none was in force."""
