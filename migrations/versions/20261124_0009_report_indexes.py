"""Reports: a partial index of the entries that are not posted.

The sustainability report sums every posting of a window without joining entries, then takes
away the postings of the few entries that are pending or voided, found through this index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNPOSTED = sa.text("status <> 'posted'")


def upgrade() -> None:
    op.create_index(
        "ix_entries_unposted",
        "entries",
        ["community_id", "id"],
        postgresql_where=_UNPOSTED,
        sqlite_where=_UNPOSTED,
    )


def downgrade() -> None:
    op.drop_index("ix_entries_unposted", table_name="entries")
