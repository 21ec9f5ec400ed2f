"""Reports: the postings of a community in date order, with what sums need.

Balances and movements ``as_of`` a recent date are taken from the maintained counters less the
postings dated after it, and a report's bounded windows read only the postings dated inside them:
both are ranges of this index. On PostgreSQL it carries ``account_id`` and ``amount`` (answered
from the index alone). On SQLite it does not: with them SQLite, which the service never
ANALYZEs, would also take it for per-account sums and scan the community's postings for each.
Without it such a range is a scan of the community's whole history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
# 0010–0012 are other branches' numbers: whichever merges last before this one becomes its parent.
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_postings_by_date",
        "postings",
        ["community_id", "effective_date"],
        postgresql_include=["account_id", "amount"],
    )


def downgrade() -> None:
    op.drop_index("ix_postings_by_date", table_name="postings")
