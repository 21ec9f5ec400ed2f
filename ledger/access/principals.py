"""Who may act on a community's books: credentials, principals and scopes.

A credential is an API key (scopes ``read`` < ``write`` < ``treasurer`` < ``admin``, each
implying the ones before it) or a member token (acts as one member only). Its secret is 256 random
bits, shown once when issued and stored only as its SHA-256: the secret has enough entropy that a
fast hash is right, and the stored hash is useless to a reader of the database.

Every credential records who issued it (:class:`Issuer`). A member token is *personal* when the
operator issued it (the bootstrap token, a command-line tool, an ``admin`` API key) or the member
did, with a personal token of their own; only a personal token acts in the member's governance
roles, because a consent or an approval is that person's and no one who can mint their credential
may give it (docs/security.md, "Credentials").

Guarantees (tests/ledger/test_access.py, tests/api/test_credential_issuers.py): a secret is never
stored; a revoked or expired credential authenticates nobody; a credential of one community is a
principal of that community only; scopes imply the lower ones; a token that is not personal holds
no governance role.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

TOKEN_PREFIX = "cl_"  # noqa: S105 - a marker, not a secret
STEWARD_ROLE = "steward"
TREASURER_ROLE = "treasurer"


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    TREASURER = "treasurer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Scope.READ: 0, Scope.WRITE: 1, Scope.TREASURER: 2, Scope.ADMIN: 3}


class CredentialKind(enum.StrEnum):
    API_KEY = "api_key"
    MEMBER = "member"
    BOOTSTRAP = "bootstrap"
    """The operator's admin token from the environment: global, never stored."""


class IssuerKind(enum.StrEnum):
    OPERATOR = "operator"
    """The bootstrap token or a command-line tool: the operator, who runs the service."""
    API_KEY = "api_key"
    MEMBER = "member"


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who issued a credential: ``credential_id`` is the issuing API key or member token (None
    for the operator)."""

    kind: IssuerKind
    credential_id: uuid.UUID | None = None


OPERATOR_ISSUER = Issuer(IssuerKind.OPERATOR)


@dataclass(frozen=True, slots=True)
class Credential:
    community_id: uuid.UUID
    id: uuid.UUID
    kind: CredentialKind
    name: str
    scopes: frozenset[Scope]
    """For a member token: the scopes it acts with, limited to that member's own resources."""
    member_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    issued_by: Issuer | None = None
    """None only for credentials issued before issuers were recorded (migration 0012)."""
    personal: bool = False
    """A member token the operator or the member themselves issued: it may act in the member's
    governance roles. Always False for an API key."""
    session_of: uuid.UUID | None = None
    """A web session: the member token it was exchanged for, whose revocation ends it."""

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    kind: CredentialKind
    credential_id: str
    community_id: uuid.UUID | None
    """None only for the bootstrap admin, who may act in every community."""
    scopes: frozenset[Scope]
    member_id: uuid.UUID | None = None
    roles: frozenset[str] = frozenset()
    """A personal member token's current governance roles (``steward``, ``treasurer``), read when
    it authenticates: powers follow the terms current at that moment. Empty for a token someone
    else issued."""
    personal: bool = False
    """See :attr:`Credential.personal`."""

    def allows(self, scope: Scope) -> bool:
        return any(held.rank >= scope.rank for held in self.scopes)

    def may_enter(self, community_id: uuid.UUID) -> bool:
        return self.community_id is None or self.community_id == community_id

    @property
    def is_member(self) -> bool:
        """Limited to the member's own resources: a member token, unless its member is a current
        treasurer (who acts with the ``treasurer`` scope across the community)."""
        return self.kind is CredentialKind.MEMBER and TREASURER_ROLE not in self.roles

    @property
    def is_steward(self) -> bool:
        """A member token of a current steward."""
        return self.kind is CredentialKind.MEMBER and STEWARD_ROLE in self.roles

    @property
    def is_treasurer_member(self) -> bool:
        return self.kind is CredentialKind.MEMBER and TREASURER_ROLE in self.roles

    @property
    def idempotency_scope(self) -> str:
        """Idempotency keys belong to the caller: two callers may use the same key."""
        return f"{self.kind}:{self.credential_id}"

    @property
    def issues_as_operator(self) -> bool:
        """Credentials it issues are the operator's to vouch for: the bootstrap token or an
        ``admin`` API key."""
        return self.kind is not CredentialKind.MEMBER and self.allows(Scope.ADMIN)

    @property
    def issuer(self) -> Issuer:
        if self.kind is CredentialKind.BOOTSTRAP:
            return OPERATOR_ISSUER
        kind = IssuerKind.MEMBER if self.kind is CredentialKind.MEMBER else IssuerKind.API_KEY
        return Issuer(kind, uuid.UUID(self.credential_id))

    @staticmethod
    def of(credential: Credential, roles: frozenset[str] = frozenset()) -> Principal:
        # A token someone else issued acts as the member, never in the member's roles.
        roles = roles if credential.personal else frozenset()
        scopes = credential.scopes
        if credential.kind is CredentialKind.MEMBER and TREASURER_ROLE in roles:
            scopes = scopes | {Scope.TREASURER}
        return Principal(
            kind=credential.kind,
            credential_id=str(credential.id),
            community_id=credential.community_id,
            scopes=scopes,
            member_id=credential.member_id,
            roles=roles,
            personal=credential.personal,
        )


BOOTSTRAP_ADMIN = Principal(
    kind=CredentialKind.BOOTSTRAP,
    credential_id="bootstrap",
    community_id=None,
    scopes=frozenset({Scope.ADMIN}),
)


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(secret: str, expected: str) -> bool:
    """Constant-time comparison of a presented secret with a known one."""
    return hmac.compare_digest(secret_hash(secret), secret_hash(expected))
