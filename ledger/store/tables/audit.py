"""The audit trail and the event outbox written with it."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, Json, UTCDateTime, metadata

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


# The event outbox (ledger.audit.outbox): the events of each audit record, written with it.
# Their place in a community's feed is (seq, n): the record's number, in commit order without
# gaps, and the event's index among the record's events.
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
