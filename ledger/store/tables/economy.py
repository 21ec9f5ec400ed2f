"""The cooperative economy: account designations, restricted funds and schedules."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, UTCDateTime, metadata

# The cooperative economy (ledger.economy.service): what the chart's template designates, restricted
# funds, and recurring-entry schedules with the periods they have materialised.
account_designations = sa.Table(
    "account_designations",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("designation", sa.String(32), nullable=False, doc="The part the account plays."),
    sa.ForeignKeyConstraint(
        ["community_id", "account_id"], ["accounts.community_id", "accounts.id"]
    ),
    sa.CheckConstraint(
        "designation IN ('cash', 'business_line', 'external_support', 'other_income', "
        "'essential_expense', 'other_expense', 'emergency_fund', 'hours_pool')",
        name="designation_known",
    ),
)

funds = sa.Table(
    "funds",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("purpose", sa.String(1000), nullable=False),
    sa.Column(
        "account_id", Id, nullable=False, doc="The asset account holding it, balance_min = 0."
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("community_id", "account_id"),
    sa.ForeignKeyConstraint(
        ["community_id", "account_id"], ["accounts.community_id", "accounts.id"]
    ),
)

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("description", sa.String(1000), nullable=False),
    sa.Column("debit_account_id", Id, nullable=False),
    sa.Column("credit_account_id", Id, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False, doc="Smallest unit of the commodity."),
    sa.Column("frequency", sa.String(16), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False, doc="The first occurrence."),
    sa.Column("end_date", sa.Date, nullable=True, doc="No occurrence after it."),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column(
        "resumed_on", sa.Date, nullable=True, doc="Occurrences before it were skipped (paused)."
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "debit_account_id"], ["accounts.community_id", "accounts.id"]
    ),
    sa.ForeignKeyConstraint(
        ["community_id", "credit_account_id"], ["accounts.community_id", "accounts.id"]
    ),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint(
        "frequency IN ('weekly', 'monthly', 'quarterly', 'yearly')", name="frequency_known"
    ),
    sa.CheckConstraint("status IN ('active', 'paused', 'ended')", name="status_known"),
)

# One row per (schedule, period), written in the transaction that writes the period's entry:
# the primary key is what makes an occurrence happen exactly once, whoever runs the job.
schedule_occurrences = sa.Table(
    "schedule_occurrences",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("schedule_id", Id, primary_key=True),
    sa.Column("period", sa.Date, primary_key=True, doc="The occurrence's date."),
    sa.Column("entry_id", Id, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "schedule_id"], ["schedules.community_id", "schedules.id"]
    ),
    sa.ForeignKeyConstraint(["community_id", "entry_id"], ["entries.community_id", "entries.id"]),
)
