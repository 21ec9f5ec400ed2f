"""Federation: links, their terms versions and consents, cross transfers, link journals.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_OPEN_LOCAL = sa.text("status <> 'closed' AND partner_node_url IS NULL")
_OPEN_REMOTE = sa.text("status <> 'closed' AND partner_node_url IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "federation_links",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_slug", sa.String(length=64), nullable=False),
        sa.Column("partner_name", sa.String(length=200), nullable=False),
        sa.Column("partner_community_id", sa.Uuid(), nullable=True),
        sa.Column("partner_node_url", sa.String(length=2000), nullable=True),
        sa.Column("partner_node_key", sa.String(length=200), nullable=True),
        sa.Column("proposed_here", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suspended_here", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('proposed', 'active', 'suspended', 'closed')",
            name=op.f("ck_federation_links_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_federation_links_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_federation_links")),
    )
    op.create_table(
        "federation_journal",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("from_proposer", sa.Boolean(), nullable=False),
        sa.Column("commodity_sent", sa.String(length=24), nullable=False),
        sa.Column("amount_sent", sa.BigInteger(), nullable=False),
        sa.Column("commodity_received", sa.String(length=24), nullable=False),
        sa.Column("amount_received", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_federation_journal_seq_positive")),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id"],
            ["federation_links.community_id", "federation_links.id"],
            name=op.f("fk_federation_journal_community_id_link_id_federation_links"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "link_id", "seq", name=op.f("pk_federation_journal")
        ),
        sa.UniqueConstraint(
            "community_id",
            "link_id",
            "transfer_id",
            name=op.f("uq_federation_journal_community_id_link_id_transfer_id"),
        ),
    )
    op.create_table(
        "federation_link_versions",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hold_window_s", sa.Integer(), nullable=False),
        sa.Column("proposed_here", sa.Boolean(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("adopted_here_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adopted_there_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "version >= 1", name=op.f("ck_federation_link_versions_version_positive")
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id"],
            ["federation_links.community_id", "federation_links.id"],
            name=op.f("fk_federation_link_versions_community_id_link_id_federation_links"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "link_id", "version", name=op.f("pk_federation_link_versions")
        ),
    )
    op.create_table(
        "federation_transfers",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("partner_member_id", sa.Uuid(), nullable=True),
        sa.Column("rate_version", sa.Integer(), nullable=True),
        sa.Column("rate_numerator", sa.BigInteger(), nullable=True),
        sa.Column("rate_denominator", sa.BigInteger(), nullable=True),
        sa.Column("commodity_sent", sa.String(length=24), nullable=True),
        sa.Column("amount_sent", sa.BigInteger(), nullable=True),
        sa.Column("commodity_received", sa.String(length=24), nullable=True),
        sa.Column("amount_received", sa.BigInteger(), nullable=True),
        sa.Column("min_received", sa.BigInteger(), nullable=True),
        sa.Column("rounding", sa.String(length=8), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('payer', 'payee')", name=op.f("ck_federation_transfers_role_known")
        ),
        sa.CheckConstraint(
            "state IN ('prepared', 'committed', 'rejected')",
            name=op.f("ck_federation_transfers_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "entry_id"],
            ["entries.community_id", "entries.id"],
            name=op.f("fk_federation_transfers_community_id_entry_id_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id"],
            ["federation_links.community_id", "federation_links.id"],
            name=op.f("fk_federation_transfers_community_id_link_id_federation_links"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_federation_transfers")),
    )
    op.create_index(
        "uq_federation_links_open_local",
        "federation_links",
        ["community_id", "partner_slug"],
        unique=True,
        postgresql_where=_OPEN_LOCAL,
        sqlite_where=_OPEN_LOCAL,
    )
    op.create_index(
        "uq_federation_links_open_remote",
        "federation_links",
        ["community_id", "partner_slug", "partner_node_url"],
        unique=True,
        postgresql_where=_OPEN_REMOTE,
        sqlite_where=_OPEN_REMOTE,
    )
    op.create_index(
        "ix_federation_transfers_link",
        "federation_transfers",
        ["community_id", "link_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_federation_transfers_member",
        "federation_transfers",
        ["community_id", "member_id", "id"],
        unique=False,
    )

    op.create_table(
        "federation_link_terms",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("partner_commodity", sa.String(length=24), nullable=False),
        sa.Column("rate_numerator", sa.BigInteger(), nullable=False),
        sa.Column("rate_denominator", sa.BigInteger(), nullable=False),
        sa.Column("limit_we_owe", sa.BigInteger(), nullable=False),
        sa.Column("limit_they_owe", sa.BigInteger(), nullable=False),
        sa.Column("clearing_account_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "limit_we_owe >= 0 AND limit_they_owe >= 0",
            name=op.f("ck_federation_link_terms_limits_not_negative"),
        ),
        sa.CheckConstraint(
            "rate_numerator > 0 AND rate_denominator > 0",
            name=op.f("ck_federation_link_terms_rate_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "clearing_account_id"],
            ["accounts.community_id", "accounts.id"],
            name=op.f("fk_federation_link_terms_community_id_clearing_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id", "version"],
            [
                "federation_link_versions.community_id",
                "federation_link_versions.link_id",
                "federation_link_versions.version",
            ],
            name=op.f(
                "fk_federation_link_terms_community_id_link_id_version_federation_link_versions"
            ),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "link_id", "version", "commodity", name=op.f("pk_federation_link_terms")
        ),
    )
    op.create_table(
        "federation_version_consents",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id", "version"],
            [
                "federation_link_versions.community_id",
                "federation_link_versions.link_id",
                "federation_link_versions.version",
            ],
            name=op.f(
                "fk_federation_version_consents_community_id_link_id_version_federation_link_versions"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "member_id"],
            ["members.community_id", "members.id"],
            name=op.f("fk_federation_version_consents_community_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id",
            "link_id",
            "version",
            "member_id",
            name=op.f("pk_federation_version_consents"),
        ),
    )


def downgrade() -> None:
    op.drop_table("federation_version_consents")
    op.drop_table("federation_link_terms")
    op.drop_index("ix_federation_transfers_member", table_name="federation_transfers")
    op.drop_index("uq_federation_links_open_remote", table_name="federation_links")
    op.drop_index("uq_federation_links_open_local", table_name="federation_links")
    op.drop_index("ix_federation_transfers_link", table_name="federation_transfers")

    op.drop_table("federation_transfers")
    op.drop_table("federation_link_versions")
    op.drop_table("federation_journal")
    op.drop_table("federation_links")
