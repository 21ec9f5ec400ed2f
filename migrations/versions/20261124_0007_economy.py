"""The cooperative economy: account designations, restricted funds, recurring-entry schedules.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _accounts_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["community_id", column],
        ["accounts.community_id", "accounts.id"],
        name=op.f(f"fk_{table}_community_id_{column}_accounts"),
    )


def _communities_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["community_id"], ["communities.id"], name=op.f(f"fk_{table}_community_id_communities")
    )


def upgrade() -> None:
    op.create_table(
        "account_designations",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("designation", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "designation IN ('cash', 'business_line', 'external_support', 'other_income', "
            "'essential_expense', 'other_expense', 'emergency_fund', 'hours_pool')",
            name=op.f("ck_account_designations_designation_known"),
        ),
        _accounts_fk("account_designations", "account_id"),
        sa.PrimaryKeyConstraint("community_id", "account_id", name=op.f("pk_account_designations")),
    )
    op.create_table(
        "funds",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=1000), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _accounts_fk("funds", "account_id"),
        _communities_fk("funds"),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_funds")),
        sa.UniqueConstraint(
            "community_id", "account_id", name=op.f("uq_funds_community_id_account_id")
        ),
    )
    op.create_table(
        "schedules",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("debit_account_id", sa.Uuid(), nullable=False),
        sa.Column("credit_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("resumed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_schedules_amount_positive")),
        sa.CheckConstraint(
            "frequency IN ('weekly', 'monthly', 'quarterly', 'yearly')",
            name=op.f("ck_schedules_frequency_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'ended')", name=op.f("ck_schedules_status_known")
        ),
        _accounts_fk("schedules", "debit_account_id"),
        _accounts_fk("schedules", "credit_account_id"),
        _communities_fk("schedules"),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_schedules")),
    )
    op.create_table(
        "schedule_occurrences",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id", "entry_id"],
            ["entries.community_id", "entries.id"],
            name=op.f("fk_schedule_occurrences_community_id_entry_id_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "schedule_id"],
            ["schedules.community_id", "schedules.id"],
            name=op.f("fk_schedule_occurrences_community_id_schedule_id_schedules"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "schedule_id", "period", name=op.f("pk_schedule_occurrences")
        ),
    )


def downgrade() -> None:
    op.drop_table("schedule_occurrences")
    op.drop_table("schedules")
    op.drop_table("funds")
    op.drop_table("account_designations")
