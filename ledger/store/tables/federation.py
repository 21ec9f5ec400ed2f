"""Federation: links (one row per side), their terms versions, consents, cross transfers and the
hash-chained journal of each link on each side."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, UTCDateTime, metadata

OPEN_LOCAL = sa.text("status <> 'closed' AND partner_node_url IS NULL")
OPEN_REMOTE = sa.text("status <> 'closed' AND partner_node_url IS NOT NULL")

federation_links = sa.Table(
    "federation_links",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="Shared by both sides of the link."),
    sa.Column("partner_slug", sa.String(64), nullable=False),
    sa.Column("partner_name", sa.String(200), nullable=False),
    sa.Column("partner_community_id", Id, nullable=True, doc="On this install; else null."),
    sa.Column("partner_node_url", sa.String(2000), nullable=True),
    sa.Column("partner_node_key", sa.String(200), nullable=True),
    sa.Column("proposed_here", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("suspended_here", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "status IN ('proposed', 'active', 'suspended', 'closed')", name="status_known"
    ),
    # One open link per partner: the check before the insert alone let two concurrent
    # proposals both pass. Two partial indexes, as NULL node URLs (this install) never collide.
    sa.Index(
        "uq_federation_links_open_local",
        "community_id",
        "partner_slug",
        unique=True,
        postgresql_where=OPEN_LOCAL,
        sqlite_where=OPEN_LOCAL,
    ),
    sa.Index(
        "uq_federation_links_open_remote",
        "community_id",
        "partner_slug",
        "partner_node_url",
        unique=True,
        postgresql_where=OPEN_REMOTE,
        sqlite_where=OPEN_REMOTE,
    ),
)

federation_link_versions = sa.Table(
    "federation_link_versions",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("hold_window_s", sa.Integer, nullable=False),
    sa.Column("proposed_here", sa.Boolean, nullable=False),
    sa.Column("proposed_at", UTCDateTime, nullable=False),
    sa.Column("adopted_here_at", UTCDateTime, nullable=True),
    sa.Column("adopted_there_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id"], ["federation_links.community_id", "federation_links.id"]
    ),
    sa.CheckConstraint("version >= 1", name="version_positive"),
)

federation_link_terms = sa.Table(
    "federation_link_terms",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("commodity", sa.String(24), primary_key=True),
    sa.Column("partner_commodity", sa.String(24), nullable=False),
    sa.Column("rate_numerator", sa.BigInteger, nullable=False, doc="Partner units per unit…"),
    sa.Column("rate_denominator", sa.BigInteger, nullable=False, doc="…as n/d, exact."),
    sa.Column("limit_we_owe", sa.BigInteger, nullable=False),
    sa.Column("limit_they_owe", sa.BigInteger, nullable=False),
    sa.Column("clearing_account_id", Id, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id", "version"],
        [
            "federation_link_versions.community_id",
            "federation_link_versions.link_id",
            "federation_link_versions.version",
        ],
    ),
    sa.ForeignKeyConstraint(
        ["community_id", "clearing_account_id"], ["accounts.community_id", "accounts.id"]
    ),
    sa.CheckConstraint("rate_numerator > 0 AND rate_denominator > 0", name="rate_positive"),
    sa.CheckConstraint("limit_we_owe >= 0 AND limit_they_owe >= 0", name="limits_not_negative"),
)

federation_version_consents = sa.Table(
    "federation_version_consents",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("member_id", Id, primary_key=True),
    sa.Column("consented_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id", "version"],
        [
            "federation_link_versions.community_id",
            "federation_link_versions.link_id",
            "federation_link_versions.version",
        ],
    ),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
)

federation_transfers = sa.Table(
    "federation_transfers",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="Shared by both sides of the transfer."),
    sa.Column("link_id", Id, nullable=False),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("member_id", Id, nullable=True, doc="This side's member; null for a tombstone."),
    sa.Column("partner_member_id", Id, nullable=True),
    sa.Column("rate_version", sa.Integer, nullable=True, doc="The quote; null for a tombstone."),
    sa.Column("rate_numerator", sa.BigInteger, nullable=True),
    sa.Column("rate_denominator", sa.BigInteger, nullable=True),
    sa.Column("commodity_sent", sa.String(24), nullable=True),
    sa.Column("amount_sent", sa.BigInteger, nullable=True),
    sa.Column("commodity_received", sa.String(24), nullable=True),
    sa.Column("amount_received", sa.BigInteger, nullable=True),
    sa.Column("min_received", sa.BigInteger, nullable=True),
    sa.Column("rounding", sa.String(8), nullable=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("entry_id", Id, nullable=True),
    sa.Column("reason", sa.String(64), nullable=True),
    sa.Column("detail", sa.String(1000), nullable=True),
    sa.Column("description", sa.String(1000), nullable=False),
    sa.Column("destination", sa.String(64), nullable=True, doc="Beyond a hub; else null."),
    sa.Column("upstream_id", Id, nullable=True, doc="At a hub, on a forwarded hop: the upstream."),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id"], ["federation_links.community_id", "federation_links.id"]
    ),
    sa.ForeignKeyConstraint(["community_id", "entry_id"], ["entries.community_id", "entries.id"]),
    sa.CheckConstraint("role IN ('payer', 'payee')", name="role_known"),
    sa.CheckConstraint("state IN ('prepared', 'committed', 'rejected')", name="state_known"),
    sa.Index("ix_federation_transfers_member", "community_id", "member_id", "id"),
    sa.Index("ix_federation_transfers_link", "community_id", "link_id", "id"),
)

# One row per movement of a link on one side, written with the posting it mirrors. The unique
# transfer id per link is the database's own guard that a transfer moves a journal once.
federation_journal = sa.Table(
    "federation_journal",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("transfer_id", Id, nullable=False),
    sa.Column("from_proposer", sa.Boolean, nullable=False),
    sa.Column("commodity_sent", sa.String(24), nullable=False),
    sa.Column("amount_sent", sa.BigInteger, nullable=False),
    sa.Column("commodity_received", sa.String(24), nullable=False),
    sa.Column("amount_received", sa.BigInteger, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id"], ["federation_links.community_id", "federation_links.id"]
    ),
    sa.UniqueConstraint("community_id", "link_id", "transfer_id"),
    sa.CheckConstraint("seq >= 1", name="seq_positive"),
)
