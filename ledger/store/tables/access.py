"""Credentials: API keys and member tokens, kept only as hashes of their secrets."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, UTCDateTime, metadata

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("scopes", sa.String(100), nullable=False, doc="Space-separated scope names."),
    sa.Column("member_id", Id, nullable=True),
    sa.Column(
        "secret_hash",
        sa.String(64),
        nullable=False,
        unique=True,
        doc="SHA-256 (hex) of the secret; the secret itself is never stored.",
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.Column(
        "issuer_kind",
        sa.String(16),
        nullable=True,
        doc="Who issued it: operator, api_key or member; NULL if issued before 0012.",
    ),
    sa.Column("issuer_id", Id, nullable=True, doc="The issuing credential (NULL: the operator)."),
    sa.Column(
        "personal",
        sa.Boolean,
        nullable=False,
        server_default=sa.false(),
        doc="A member token the operator or the member issued: acts in governance roles.",
    ),
    sa.Column(
        "session_of",
        Id,
        nullable=True,
        doc="A web session: the member token it was exchanged for, whose end ends it.",
    ),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
    sa.CheckConstraint("kind IN ('api_key', 'member')", name="kind_known"),
    sa.CheckConstraint("(kind = 'member') = (member_id IS NOT NULL)", name="member_iff_member"),
)
