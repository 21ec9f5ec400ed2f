"""Idempotency keys: the outcome recorded for each key a writer used, so a retry replays it."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, UTCDateTime, metadata

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("scope", sa.String(200), primary_key=True, doc="Who used the key."),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, doc="SHA-256 of the request."),
    sa.Column("result", sa.LargeBinary, nullable=True, doc="The encoded outcome."),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
