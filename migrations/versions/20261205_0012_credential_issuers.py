"""Credentials record who issued them, whether a member token is the member's own, and which
member token a web session came from (issue 18: H1, M2); the emergency fund's account is guarded
(M1): lowered only by disbursements, with a floor of at least 0.

Credentials issued before this revision have no recorded issuer and are not personal: a
steward's or treasurer's token from before it acts as the member only, until the operator (or
the member with a personal token) issues a new one (docs/security.md, "Credentials"). Web
sessions from before it are no longer accepted: their members sign in again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("issuer_kind", sa.String(length=16), nullable=True))
    op.add_column("credentials", sa.Column("issuer_id", sa.Uuid(), nullable=True))
    op.add_column(
        "credentials",
        sa.Column("personal", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("credentials", sa.Column("session_of", sa.Uuid(), nullable=True))
    # Sessions from before this revision were plain member tokens: end them (members sign in again).
    credentials = sa.table(
        "credentials",
        sa.column("kind", sa.String()),
        sa.column("name", sa.String()),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.execute(
        credentials.update()
        .where(
            credentials.c.kind == "member",
            credentials.c.name == "web session",
            credentials.c.revoked_at.is_(None),
        )
        .values(revoked_at=now.replace(tzinfo=None) if _sqlite() else now)
    )
    op.add_column(
        "accounts",
        sa.Column("guarded", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # The fund account each community designated is guarded from now on, with a floor of 0.
    # (A floor of 0 only where the balance, reservations counted, is not below it already.)
    op.execute(
        "UPDATE accounts SET guarded = true, balance_min = CASE"
        " WHEN balance_min IS NOT NULL AND balance_min >= 0 THEN balance_min"
        " WHEN normal_sign * (debits_posted - credits_posted)"
        " - CASE WHEN normal_sign > 0 THEN credits_pending ELSE debits_pending END >= 0 THEN 0"
        " ELSE balance_min END"
        " WHERE id IN (SELECT fund_account_id FROM governance_settings"
        " WHERE fund_account_id IS NOT NULL)"
    )


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("guarded")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("session_of")
        batch.drop_column("personal")
        batch.drop_column("issuer_id")
        batch.drop_column("issuer_kind")
