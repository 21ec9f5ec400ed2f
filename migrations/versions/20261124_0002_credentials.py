"""Credentials: API keys and member tokens, stored as hashes of their secrets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "credentials",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'member') = (member_id IS NOT NULL)",
            name=op.f("ck_credentials_member_iff_member"),
        ),
        sa.CheckConstraint("kind IN ('api_key', 'member')", name=op.f("ck_credentials_kind_known")),
        sa.ForeignKeyConstraint(
            ["community_id", "member_id"],
            ["members.community_id", "members.id"],
            name=op.f("fk_credentials_community_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_credentials_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_credentials_secret_hash")),
    )


def downgrade() -> None:

    op.drop_table("credentials")
