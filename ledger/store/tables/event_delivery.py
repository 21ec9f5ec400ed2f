"""The events concept's tables: webhook subscriptions with their deliveries, and balance monitors.

Not `events.py`: that name is the outbox table's, exported by the package (see audit.py)."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, Json, UTCDateTime, metadata

# Webhook subscriptions (ledger.events.webhooks): where to deliver which events, signed with
# `secret`, and the delivery state — the last event handled and when to try the next — so a
# restarted process resumes where the last one stopped. A worker leases a subscription while it
# delivers.
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


# Balance monitors (ledger.events.monitors): a threshold on an account's balance and which side
# of it the balance was on after the last write, so a crossing emits one event, not one per entry.
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
