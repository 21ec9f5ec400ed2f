"""Federation between installs: each side's stance on a link shared with another node (its own
status changes numbered, the partner's latest one applied).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_link_stances",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("sent_seq", sa.Integer(), nullable=False),
        sa.Column("partner_seq", sa.Integer(), nullable=False),
        sa.Column("partner_suspended", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id", "link_id"],
            ["federation_links.community_id", "federation_links.id"],
            name=op.f("fk_federation_link_stances_community_id_link_id_federation_links"),
        ),
        sa.PrimaryKeyConstraint("community_id", "link_id", name=op.f("pk_federation_link_stances")),
    )


def downgrade() -> None:
    op.drop_table("federation_link_stances")
