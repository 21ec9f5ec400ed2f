"""The audit trail: hash-chained records of every write, and each community's chain head.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column(
            "result_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name="fk_audit_log_community_id_communities"
        ),
        sa.PrimaryKeyConstraint("community_id", "seq", name="pk_audit_log"),
    )
    op.create_table(
        "audit_heads",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name="fk_audit_heads_community_id_communities"
        ),
        sa.PrimaryKeyConstraint("community_id", name="pk_audit_heads"),
    )
    for statement in _GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP_GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("audit_heads")
    op.drop_table("audit_log")


# Records are append-only, refused by the database itself (one statement per execute: asyncpg
# prepares each). The head is updated by every append and has no such guard; the chain's hashes
# are what reveal a rewrite (see ledger.audit.chain).
_GUARDS = {
    "postgresql": (
        """CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of audit records is not allowed: the audit trail is append-only', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$""",
        """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
        """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
    ),
    "sqlite": (
        """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'UPDATE of audit records is not allowed: append-only'); END""",
        """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'DELETE of audit records is not allowed: append-only'); END""",
    ),
}

_DROP_GUARDS = {
    "postgresql": (
        "DROP TRIGGER audit_log_no_truncate ON audit_log",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DROP FUNCTION audit_refuse_change()",
    ),
    "sqlite": ("DROP TRIGGER audit_log_no_delete", "DROP TRIGGER audit_log_no_update"),
}
