"""Governance: rotating role terms, budgets with consents, the emergency fund's settings,
disbursement requests, their approvals and steps.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes", sa.Uuid(), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'adopted') = (adopted_at IS NOT NULL)",
            name=op.f("ck_budgets_adopted_iff_at"),
        ),
        sa.CheckConstraint("status IN ('draft', 'adopted')", name=op.f("ck_budgets_status_known")),
        sa.CheckConstraint(
            "effective_from BETWEEN period_start AND period_end",
            name=op.f("ck_budgets_effective_in_period"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "supersedes"],
            ["budgets.community_id", "budgets.id"],
            name=op.f("fk_budgets_community_id_supersedes_budgets"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_budgets_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_budgets")),
    )
    op.create_table(
        "budget_consents",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id", "budget_id"],
            ["budgets.community_id", "budgets.id"],
            name=op.f("fk_budget_consents_community_id_budget_id_budgets"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "member_id"],
            ["members.community_id", "members.id"],
            name=op.f("fk_budget_consents_community_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "budget_id", "member_id", name=op.f("pk_budget_consents")
        ),
    )
    op.create_table(
        "budget_lines",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.SmallInteger(), nullable=False),
        sa.Column("account_group", sa.String(length=120), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_budget_lines_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["community_id", "budget_id"],
            ["budgets.community_id", "budgets.id"],
            name=op.f("fk_budget_lines_community_id_budget_id_budgets"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "commodity"],
            ["commodities.community_id", "commodities.code"],
            name=op.f("fk_budget_lines_community_id_commodity_commodities"),
        ),
        sa.PrimaryKeyConstraint("community_id", "budget_id", "line", name=op.f("pk_budget_lines")),
    )
    op.create_table(
        "disbursements",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("fund_account_id", sa.Uuid(), nullable=False),
        sa.Column("payee_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("approvals_required", sa.SmallInteger(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'pending') = (completed_at IS NULL)",
            name=op.f("ck_disbursements_completed_iff_not_pending"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'expired')",
            name=op.f("ck_disbursements_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_disbursements_amount_positive")),
        sa.ForeignKeyConstraint(
            ["community_id", "id"],
            ["entries.community_id", "entries.id"],
            name=op.f("fk_disbursements_community_id_id_entries"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_disbursements")),
    )
    op.create_index(
        "ix_disbursements_status", "disbursements", ["community_id", "status", "deadline_at"]
    )

    op.create_table(
        "role_terms",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('steward', 'treasurer')", name=op.f("ck_role_terms_role_known")
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at >= starts_at", name=op.f("ck_role_terms_term_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "member_id"],
            ["members.community_id", "members.id"],
            name=op.f("fk_role_terms_community_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_role_terms")),
    )
    op.create_index("ix_role_terms_member", "role_terms", ["community_id", "member_id"])

    op.create_table(
        "disbursement_approvals",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("disbursement_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id", "disbursement_id"],
            ["disbursements.community_id", "disbursements.id"],
            name=op.f("fk_disbursement_approvals_community_id_disbursement_id_disbursements"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "member_id"],
            ["members.community_id", "members.id"],
            name=op.f("fk_disbursement_approvals_community_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "disbursement_id", "member_id", name=op.f("pk_disbursement_approvals")
        ),
    )
    op.create_table(
        "disbursement_steps",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("disbursement_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "action IN ('request', 'approve', 'reject', 'expire', 'post')",
            name=op.f("ck_disbursement_steps_action_known"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "disbursement_id"],
            ["disbursements.community_id", "disbursements.id"],
            name=op.f("fk_disbursement_steps_community_id_disbursement_id_disbursements"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_disbursement_steps")),
    )
    op.create_index(
        "ix_disbursement_steps_request", "disbursement_steps", ["community_id", "disbursement_id"]
    )

    op.create_table(
        "governance_settings",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("consent_rule", sa.String(length=16), nullable=False),
        sa.Column("consent_quorum", sa.SmallInteger(), nullable=True),
        sa.Column("approvals_required", sa.SmallInteger(), nullable=False),
        sa.Column("request_days", sa.SmallInteger(), nullable=False),
        sa.Column("fund_account_id", sa.Uuid(), nullable=True),
        sa.Column("fund_target", sa.BigInteger(), nullable=True),
        sa.Column("fund_target_months", sa.SmallInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(consent_rule = 'quorum') = (consent_quorum IS NOT NULL)",
            name=op.f("ck_governance_settings_quorum_iff_rule"),
        ),
        sa.CheckConstraint(
            "consent_rule IN ('consensus', 'quorum')",
            name=op.f("ck_governance_settings_consent_rule_known"),
        ),
        sa.CheckConstraint(
            "approvals_required >= 1", name=op.f("ck_governance_settings_approvals_positive")
        ),
        sa.CheckConstraint(
            "consent_quorum IS NULL OR consent_quorum >= 1",
            name=op.f("ck_governance_settings_quorum_positive"),
        ),
        sa.CheckConstraint(
            "fund_target IS NULL OR fund_target >= 0",
            name=op.f("ck_governance_settings_target_non_negative"),
        ),
        sa.CheckConstraint(
            "fund_target IS NULL OR fund_target_months IS NULL",
            name=op.f("ck_governance_settings_one_target_basis"),
        ),
        sa.CheckConstraint(
            "request_days >= 1", name=op.f("ck_governance_settings_request_days_positive")
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "fund_account_id"],
            ["accounts.community_id", "accounts.id"],
            name=op.f("fk_governance_settings_community_id_fund_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_governance_settings_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_governance_settings")),
    )


def downgrade() -> None:
    op.drop_table("governance_settings")
    op.drop_index("ix_disbursement_steps_request", table_name="disbursement_steps")

    op.drop_table("disbursement_steps")
    op.drop_table("disbursement_approvals")
    op.drop_index("ix_role_terms_member", table_name="role_terms")

    op.drop_table("role_terms")
    op.drop_index("ix_disbursements_status", table_name="disbursements")

    op.drop_table("disbursements")
    op.drop_table("budget_lines")
    op.drop_table("budget_consents")
    op.drop_table("budgets")
