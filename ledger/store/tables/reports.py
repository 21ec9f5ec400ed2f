"""Report snapshots: a report as it was generated for a period, kept once."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, UTCDateTime, metadata

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
