"""Federation: cross time-bank exchanges and the directory of listed members.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_exchanges",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("partner_member_id", sa.Uuid(), nullable=False),
        sa.Column("minutes", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=True),
        sa.Column("recorded_here", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('provider', 'receiver')", name=op.f("ck_federation_exchanges_role_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'declined')",
            name=op.f("ck_federation_exchanges_status_known"),
        ),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_federation_exchanges_minutes_positive")),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id"],
            ["federation_links.community_id", "federation_links.id"],
            name=op.f("fk_federation_exchanges_community_id_link_id_federation_links"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_federation_exchanges")),
    )
    op.create_index(
        "ix_federation_exchanges_member",
        "federation_exchanges",
        ["community_id", "member_id", "id"],
    )
    op.create_table(
        "federation_directory",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id", "member_id"],
            ["members.community_id", "members.id"],
            name=op.f("fk_federation_directory_community_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("community_id", "member_id", name=op.f("pk_federation_directory")),
    )


def downgrade() -> None:
    op.drop_table("federation_directory")
    op.drop_index("ix_federation_exchanges_member", table_name="federation_exchanges")
    op.drop_table("federation_exchanges")
