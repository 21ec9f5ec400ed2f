"""Governance (ledger.governance): rotating roles, budgets and the emergency fund."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, UTCDateTime, metadata

governance_settings = sa.Table(
    "governance_settings",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("consent_rule", sa.String(16), nullable=False, doc="'consensus' or 'quorum'."),
    sa.Column("consent_quorum", sa.SmallInteger, nullable=True, doc="Consents a quorum needs."),
    sa.Column("approvals_required", sa.SmallInteger, nullable=False),
    sa.Column("request_days", sa.SmallInteger, nullable=False, doc="Default deadline, days."),
    sa.Column("fund_account_id", Id, nullable=True),
    sa.Column("fund_target", sa.BigInteger, nullable=True, doc="Smallest unit of the fund's."),
    sa.Column("fund_target_months", sa.SmallInteger, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "fund_account_id"], ["accounts.community_id", "accounts.id"]
    ),
    sa.CheckConstraint("consent_rule IN ('consensus', 'quorum')", name="consent_rule_known"),
    sa.CheckConstraint(
        "(consent_rule = 'quorum') = (consent_quorum IS NOT NULL)", name="quorum_iff_rule"
    ),
    sa.CheckConstraint("consent_quorum IS NULL OR consent_quorum >= 1", name="quorum_positive"),
    sa.CheckConstraint("approvals_required >= 1", name="approvals_positive"),
    sa.CheckConstraint("request_days >= 1", name="request_days_positive"),
    sa.CheckConstraint("fund_target IS NULL OR fund_target >= 0", name="target_non_negative"),
    sa.CheckConstraint(
        "fund_target IS NULL OR fund_target_months IS NULL", name="one_target_basis"
    ),
)

role_terms = sa.Table(
    "role_terms",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="UUIDv7: sorts by assignment time."),
    sa.Column("member_id", Id, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=True, doc="Exclusive; None: open-ended."),
    sa.Column("assigned_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True, doc="When the term was cut short."),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
    sa.CheckConstraint("role IN ('steward', 'treasurer')", name="role_known"),
    sa.CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="term_ordered"),
    sa.Index("ix_role_terms_member", "community_id", "member_id"),
)

budgets = sa.Table(
    "budgets",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="UUIDv7: sorts by creation time."),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("period", sa.String(16), nullable=False, doc="'2026-11', '2026-Q4' or '2026'."),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("supersedes", Id, nullable=True),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("adopted_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(["community_id", "supersedes"], ["budgets.community_id", "budgets.id"]),
    sa.CheckConstraint("status IN ('draft', 'adopted')", name="status_known"),
    sa.CheckConstraint("(status = 'adopted') = (adopted_at IS NOT NULL)", name="adopted_iff_at"),
    sa.CheckConstraint(
        "effective_from BETWEEN period_start AND period_end", name="effective_in_period"
    ),
)

budget_lines = sa.Table(
    "budget_lines",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("budget_id", Id, primary_key=True),
    sa.Column("line", sa.SmallInteger, primary_key=True, doc="0-based position."),
    sa.Column("account_group", sa.String(120), nullable=False, doc="A code or a code prefix."),
    sa.Column("commodity", sa.String(24), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False, doc="Planned, smallest unit."),
    sa.ForeignKeyConstraint(["community_id", "budget_id"], ["budgets.community_id", "budgets.id"]),
    sa.ForeignKeyConstraint(
        ["community_id", "commodity"], ["commodities.community_id", "commodities.code"]
    ),
    sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
)

budget_consents = sa.Table(
    "budget_consents",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("budget_id", Id, primary_key=True),
    sa.Column("member_id", Id, primary_key=True, doc="One consent per steward and budget."),
    sa.Column("consented_at", UTCDateTime, nullable=False),
    sa.Column("comment", sa.String(500), nullable=True),
    sa.ForeignKeyConstraint(["community_id", "budget_id"], ["budgets.community_id", "budgets.id"]),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
)

disbursements = sa.Table(
    "disbursements",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="The id of its pending entry."),
    sa.Column("fund_account_id", Id, nullable=False),
    sa.Column("payee_account_id", Id, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False, doc="Smallest unit of the fund's."),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("requested_by", Id, nullable=True, doc="The member; None for an API key."),
    sa.Column("approvals_required", sa.SmallInteger, nullable=False),
    sa.Column("deadline_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(["community_id", "id"], ["entries.community_id", "entries.id"]),
    sa.CheckConstraint(
        "status IN ('pending', 'approved', 'rejected', 'expired')", name="status_known"
    ),
    sa.CheckConstraint(
        "(status = 'pending') = (completed_at IS NULL)", name="completed_iff_not_pending"
    ),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.Index("ix_disbursements_status", "community_id", "status", "deadline_at"),
)

disbursement_approvals = sa.Table(
    "disbursement_approvals",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("disbursement_id", Id, primary_key=True),
    sa.Column("member_id", Id, primary_key=True, doc="A steward counts once per request."),
    sa.Column("approved_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "disbursement_id"], ["disbursements.community_id", "disbursements.id"]
    ),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
)

disbursement_steps = sa.Table(
    "disbursement_steps",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="UUIDv7: sorts by time."),
    sa.Column("disbursement_id", Id, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("member_id", Id, nullable=True, doc="Who; None for an API key or the system."),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("comment", sa.String(500), nullable=True),
    sa.ForeignKeyConstraint(
        ["community_id", "disbursement_id"], ["disbursements.community_id", "disbursements.id"]
    ),
    sa.CheckConstraint(
        "action IN ('request', 'approve', 'reject', 'expire', 'post')", name="action_known"
    ),
    sa.Index("ix_disbursement_steps_request", "community_id", "disbursement_id"),
)
