"""Federation: cross time-bank exchanges (one row per side, as links) and the directory of
members who chose to be listed for linked communities."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, UTCDateTime, metadata

federation_exchanges = sa.Table(
    "federation_exchanges",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="Shared by both sides (and the transfer's id)."),
    sa.Column("link_id", Id, nullable=False),
    sa.Column("role", sa.String(8), nullable=False, doc="This side's member's role."),
    sa.Column("member_id", Id, nullable=False),
    sa.Column("partner_member_id", Id, nullable=False),
    sa.Column("minutes", sa.BigInteger, nullable=False),
    sa.Column("description", sa.String(1000), nullable=False),
    sa.Column("category", sa.String(60), nullable=True),
    sa.Column("recorded_here", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Column(
        "partner_name",
        sa.String(200),
        nullable=True,
        doc="The partner member's name, between installs (their node tells it).",
    ),
    sa.Column("reason", sa.String(64), nullable=True, doc="Why the partner node refused."),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id"], ["federation_links.community_id", "federation_links.id"]
    ),
    sa.CheckConstraint("role IN ('provider', 'receiver')", name="role_known"),
    sa.CheckConstraint(
        "status IN ('pending', 'confirming', 'confirmed', 'declined', 'refused')",
        name="status_known",
    ),
    sa.CheckConstraint("minutes > 0", name="minutes_positive"),
    sa.Index("ix_federation_exchanges_member", "community_id", "member_id", "id"),
)

# A row is the member's opt-in: no row, not listed (the default).
federation_directory = sa.Table(
    "federation_directory",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("member_id", Id, primary_key=True),
    sa.Column("listed_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
)
