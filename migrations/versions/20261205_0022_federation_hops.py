"""Federation: a hub's record of a forwarded hop names the upstream hop it answers.

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: SQLite adds it in place, no table rebuild.
    op.add_column("federation_transfers", sa.Column("upstream_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("federation_transfers") as batch:
        batch.drop_column("upstream_id")
