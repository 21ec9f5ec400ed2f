"""The schema, shared by SQLite and PostgreSQL.

Every table carries ``community_id`` and leads its primary key with it, and every foreign key
includes it, so the database itself refuses a posting on another community's account and a
community's rows can be moved to a database of their own. Amounts and counters are BIGINT in the
commodity's smallest unit (minutes for HOURS).

The migrations in ``migrations/`` build exactly this (a test runs autogenerate and expects no
difference); PostgreSQL-only guards (triggers) live in the migrations alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both engines (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert value.tzinfo is not None, "naive datetimes never reach the database"
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Id = sa.Uuid(as_uuid=True)

communities = sa.Table(
    "communities",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

commodities = sa.Table(
    "commodities",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("code", sa.String(24), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("scale", sa.SmallInteger, nullable=False),
    sa.CheckConstraint("scale BETWEEN 0 AND 9", name="scale_range"),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("hours_account_id", Id, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(120), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column(
        "normal_sign",
        sa.SmallInteger,
        nullable=False,
        doc="+1 for debit-normal types (asset, expense), −1 for credit-normal ones.",
    ),
    sa.Column("commodity", sa.String(24), nullable=False),
    sa.Column("member_id", Id, nullable=True),
    sa.Column("balance_min", sa.BigInteger, nullable=True, doc="Normal-direction floor."),
    sa.Column("balance_max", sa.BigInteger, nullable=True, doc="Normal-direction ceiling."),
    sa.Column("closed", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # The maintained balance: four non-negative totals, smallest unit of the commodity.
    sa.Column("debits_posted", sa.BigInteger, nullable=False),
    sa.Column("credits_posted", sa.BigInteger, nullable=False),
    sa.Column("debits_pending", sa.BigInteger, nullable=False),
    sa.Column("credits_pending", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("community_id", "code"),
    # Target of the postings' foreign key, which pins a posting's commodity to its account's.
    sa.UniqueConstraint("community_id", "id", "commodity"),
    sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
    sa.ForeignKeyConstraint(
        ["community_id", "commodity"], ["commodities.community_id", "commodities.code"]
    ),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
    sa.CheckConstraint(
        "type IN ('asset', 'liability', 'equity', 'income', 'expense')", name="type_known"
    ),
    sa.CheckConstraint(
        "normal_sign = CASE WHEN type IN ('asset', 'expense') THEN 1 ELSE -1 END",
        name="normal_sign_matches_type",
    ),
    sa.CheckConstraint(
        "debits_posted >= 0 AND credits_posted >= 0 "
        "AND debits_pending >= 0 AND credits_pending >= 0",
        name="counters_non_negative",
    ),
    sa.CheckConstraint(
        "balance_min IS NULL OR balance_max IS NULL OR balance_min <= balance_max",
        name="limits_ordered",
    ),
    # The limits, enforced by the database too: the balance counting every pending reservation
    # that lowers it stays >= balance_min, and counting every one that raises it <= balance_max.
    sa.CheckConstraint(
        "balance_min IS NULL OR CASE WHEN normal_sign = 1 "
        "THEN debits_posted - credits_posted - credits_pending "
        "ELSE credits_posted - debits_posted - debits_pending END >= balance_min",
        name="within_balance_min",
    ),
    sa.CheckConstraint(
        "balance_max IS NULL OR CASE WHEN normal_sign = 1 "
        "THEN debits_posted - credits_posted + debits_pending "
        "ELSE credits_posted - debits_posted + credits_pending END <= balance_max",
        name="within_balance_max",
    ),
)

entries = sa.Table(
    "entries",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="UUIDv7: sorts by creation time."),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("description", sa.String(1000), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Column("reverses", Id, nullable=True),
    # At most one reversal per entry.
    sa.UniqueConstraint("community_id", "reverses"),
    sa.ForeignKeyConstraint(["community_id", "reverses"], ["entries.community_id", "entries.id"]),
    sa.CheckConstraint("status IN ('pending', 'posted', 'voided')", name="status_known"),
    sa.CheckConstraint(
        "(status = 'pending') = (completed_at IS NULL)", name="completed_iff_not_pending"
    ),
    # The few entries not posted: reports sum all postings and subtract these (no status join).
    sa.Index(
        "ix_entries_unposted",
        "community_id",
        "id",
        postgresql_where=sa.text("status <> 'posted'"),
        sqlite_where=sa.text("status <> 'posted'"),
    ),
)

postings = sa.Table(
    "postings",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("entry_id", Id, primary_key=True),
    sa.Column("line", sa.SmallInteger, primary_key=True, doc="0-based position in the entry."),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("commodity", sa.String(24), nullable=False),
    sa.Column(
        "amount",
        sa.BigInteger,
        nullable=False,
        doc="Smallest unit of the commodity; positive debits, negative credits.",
    ),
    sa.Column("effective_date", sa.Date, nullable=False, doc="The entry's, for statements."),
    sa.ForeignKeyConstraint(["community_id", "entry_id"], ["entries.community_id", "entries.id"]),
    sa.ForeignKeyConstraint(
        ["community_id", "account_id", "commodity"],
        ["accounts.community_id", "accounts.id", "accounts.commodity"],
    ),
    sa.CheckConstraint("amount <> 0", name="amount_non_zero"),
    sa.Index(
        "ix_postings_account_statement", "community_id", "account_id", "effective_date", "entry_id"
    ),
    # Date ranges of a community's postings: balances as of a recent date (the counters less
    # the postings after it) and reports' bounded windows. PostgreSQL answers them from the
    # index alone. On SQLite the key stays the date: a key covering account and amount would
    # win the per-account queries too when the database has no statistics (the service runs
    # no ANALYZE), each then a scan of the community's postings.
    sa.Index(
        "ix_postings_by_date",
        "community_id",
        "effective_date",
        postgresql_include=["account_id", "amount"],
    ),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("scope", sa.String(200), primary_key=True, doc="Who used the key."),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, doc="SHA-256 of the request."),
    sa.Column("result", sa.LargeBinary, nullable=True, doc="The encoded outcome."),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("scopes", sa.String(100), nullable=False, doc="Space-separated scope names."),
    sa.Column("member_id", Id, nullable=True),
    sa.Column(
        "secret_hash",
        sa.String(64),
        nullable=False,
        unique=True,
        doc="SHA-256 (hex) of the secret; the secret itself is never stored.",
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
    sa.CheckConstraint("kind IN ('api_key', 'member')", name="kind_known"),
    sa.CheckConstraint("(kind = 'member') = (member_id IS NOT NULL)", name="member_iff_member"),
)

report_snapshots = sa.Table(
    "report_snapshots",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="UUIDv7: sorts by creation time."),
    sa.Column("report", sa.String(40), nullable=False, doc="Which report: 'sustainability'."),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, doc="Of the ledger state read."),
    sa.Column("generated_at", UTCDateTime, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False, doc="The report as JSON (UTF-8)."),
    # One snapshot per report and period: taking it again never overwrites it.
    sa.UniqueConstraint("community_id", "report", "period_start", "period_end"),
)

# The audit trail (ledger.audit.chain): one append-only, hash-chained record per write that took
# effect, and per community the chain's head, which every append locks and advances, so records
# are numbered without gaps also under concurrent writers. Both engines refuse UPDATE and DELETE
# of records (triggers in the migration).
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, doc="1, 2, 3 … per community."),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("actor_kind", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=True, doc="The credential's id."),
    sa.Column("member_id", Id, nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("idempotency_key", sa.String(255), nullable=True),
    sa.Column("result_ids", Json, nullable=False, doc="Ids of what the write produced."),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, doc="SHA-256 (hex), see ledger.audit.chain."),
)

audit_heads = sa.Table(
    "audit_heads",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, doc="The last record's seq."),
    sa.Column("hash", sa.String(64), nullable=False, doc="The last record's hash."),
)

# The periodic job runner (ledger.jobs.runner): one row per run of a job for a community and period,
# claimed before the run and kept after it, so that a finished run is never repeated.
job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("job", sa.String(60), primary_key=True),
    sa.Column("period", sa.String(40), primary_key=True, doc="e.g. 2026-10, 2026-Q3, 2026-11-24"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(120), nullable=False, doc="Who holds or last held the claim."),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("outcome", sa.String(500), nullable=True),
    sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="status_known"),
    sa.CheckConstraint("attempts >= 1", name="attempts_positive"),
)

# The event outbox (ledger.audit.outbox): the events of each audit record, written with it. Their
# place
# in a community's feed is (seq, n): the record's number, in commit order without gaps, and the
# event's index among the record's events.
events = sa.Table(
    "events",
    metadata,
    # No foreign key to the audit record: it would stop TRUNCATE of audit_log before the
    # trail's own append-only guard could refuse it with its message.
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, doc="The audit record's seq."),
    sa.Column("n", sa.Integer, primary_key=True, doc="0, 1 … among the record's events."),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("type", sa.String(60), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("resource_kind", sa.String(40), nullable=False),
    sa.Column("resource_id", sa.String(64), nullable=False),
    sa.Column("data", Json, nullable=False, doc="The resource after the write."),
    sa.Column("member_ids", Json, nullable=False, doc="Members whose tokens see the event."),
    sa.Column("account_ids", Json, nullable=False, doc="Accounts whose members see the event."),
)

# Webhook subscriptions (ledger.events.webhooks): where to deliver which events, signed with
# `secret`,
# and the delivery state — the last event handled and when to try the next — so a restarted
# process resumes where the last one stopped. A worker leases a subscription while it delivers.
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("types", Json, nullable=False, doc="Event types delivered; empty means all."),
    sa.Column("secret", sa.String(100), nullable=False, doc="The HMAC key, as issued."),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, doc="active or paused."),
    sa.Column("after_seq", sa.BigInteger, nullable=False, doc="Last event handled: its seq."),
    sa.Column("after_n", sa.Integer, nullable=False, doc="Last event handled: its n."),
    sa.Column("attempts", sa.Integer, nullable=False, doc="Failed attempts at the next event."),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_token", Id, nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("deleted", sa.Boolean, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("webhook_id", Id, nullable=False),
    sa.Column("event_id", Id, nullable=False),
    sa.Column("event_type", sa.String(60), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, doc="1 for the first try of the event."),
    sa.Column("attempted_at", UTCDateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(300), nullable=True),
    sa.Column("delivered", sa.Boolean, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "webhook_id"], ["webhooks.community_id", "webhooks.id"]
    ),
    sa.Index(None, "community_id", "webhook_id", "id"),
)

# Balance monitors (ledger.events.monitors): a threshold on an account's balance and which side of
# it
# the balance was on after the last write, so a crossing emits one event, not one per entry.
balance_monitors = sa.Table(
    "balance_monitors",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("account_type", sa.String(16), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False, doc="below or above."),
    sa.Column("threshold", sa.BigInteger, nullable=False, doc="In the commodity's smallest unit."),
    sa.Column("measure", sa.String(16), nullable=False, doc="posted or available."),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column(
        "crossed", sa.Boolean, nullable=False, doc="Beyond the threshold after the last write."
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "account_id"], ["accounts.community_id", "accounts.id"]
    ),
    sa.Index(None, "community_id", "account_id"),
)

# Governance (ledger.governance): rotating roles, budgets and the emergency fund. ---------------

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


def postings_by_account(dialect_name: str) -> sa.ColumnElement[Any]:
    """The posting's account as the GROUP BY key of a sum over a date range. SQLite would read
    the range through ``ix_postings_account_statement`` (its order spares sorting the groups) at
    a table lookup per posting of the community; ``+`` makes the key an expression that index
    cannot order, so it reads only the range's postings through ``ix_postings_by_date``."""
    if dialect_name == "sqlite":
        return sa.literal_column("+postings.account_id")
    return postings.c.account_id
