"""Report snapshots: the immutable report of a closed period, content and fingerprint.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_report_snapshots_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_report_snapshots")),
        sa.UniqueConstraint(
            "community_id",
            "report",
            "period_start",
            "period_end",
            name=op.f("uq_report_snapshots_community_id_report_period_start_period_end"),
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Snapshots are immutable, like postings (the function comes from 0001).
        op.execute(
            "CREATE TRIGGER report_snapshots_immutable BEFORE UPDATE OR DELETE ON report_snapshots "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_snapshots_immutable ON report_snapshots")
    op.drop_table("report_snapshots")
