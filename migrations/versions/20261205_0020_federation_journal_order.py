"""Federation between installs: movements held for their place in a link's journal order, and
the signed checkpoints exchanged with partner nodes.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "federation_journal_held",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("from_proposer", sa.Boolean(), nullable=False),
        sa.Column("commodity_sent", sa.String(length=24), nullable=False),
        sa.Column("amount_sent", sa.BigInteger(), nullable=False),
        sa.Column("commodity_received", sa.String(length=24), nullable=False),
        sa.Column("amount_received", sa.BigInteger(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_federation_journal_held_held_seq_positive")),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id"],
            ["federation_links.community_id", "federation_links.id"],
            name=op.f("fk_federation_journal_held_community_id_link_id_federation_links"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "link_id", "transfer_id", name=op.f("pk_federation_journal_held")
        ),
        sa.UniqueConstraint(
            "community_id",
            "link_id",
            "seq",
            name=op.f("uq_federation_journal_held_community_id_link_id_seq"),
        ),
    )
    op.create_table(
        "federation_checkpoints",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("balances", _JSON, nullable=False),
        sa.Column("partner_balances", _JSON, nullable=False),
        sa.Column("partner_hash", sa.String(length=64), nullable=False),
        sa.Column("partner_signed", sa.Text(), nullable=False),
        sa.Column("agrees", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id"],
            ["federation_links.community_id", "federation_links.id"],
            name=op.f("fk_federation_checkpoints_community_id_link_id_federation_links"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "link_id", "seq", name=op.f("pk_federation_checkpoints")
        ),
    )


def downgrade() -> None:
    op.drop_table("federation_checkpoints")
    op.drop_table("federation_journal_held")
