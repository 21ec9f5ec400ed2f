"""The periodic job runner's runs."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, UTCDateTime, metadata

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
