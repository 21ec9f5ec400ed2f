"""Federation: cross exchanges between installs — the partner member's name (known from the
partner node, not from this database), why a partner node refused, and two statuses
(``confirming``: confirmed by its member, the hours on their way; ``refused``: the partner
node refused the record or the hours could not cross).

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = "status IN ('pending', 'confirmed', 'declined')"
_AFTER = "status IN ('pending', 'confirming', 'confirmed', 'declined', 'refused')"


def upgrade() -> None:
    # Batch mode: SQLite changes a CHECK constraint by rebuilding the table (PostgreSQL alters).
    with op.batch_alter_table("federation_exchanges") as batch:
        batch.add_column(sa.Column("partner_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(length=64), nullable=True))
        batch.drop_constraint(op.f("ck_federation_exchanges_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_federation_exchanges_status_known"), _AFTER)


def downgrade() -> None:
    op.execute(
        "UPDATE federation_exchanges SET status = 'declined' "
        "WHERE status IN ('confirming', 'refused')"
    )
    with op.batch_alter_table("federation_exchanges") as batch:
        batch.drop_constraint(op.f("ck_federation_exchanges_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_federation_exchanges_status_known"), _BEFORE)
        batch.drop_column("reason")
        batch.drop_column("partner_name")
