"""The ledger core: communities, commodities, members, accounts with balance counters, entries,
postings and idempotency keys; plus the guards the database enforces by itself.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("slug", name=op.f("uq_communities_slug")),
    )
    op.create_table(
        "commodities",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scale", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("scale BETWEEN 0 AND 9", name=op.f("ck_commodities_scale_range")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_commodities_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("community_id", "code", name=op.f("pk_commodities")),
    )
    op.create_table(
        "entries",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "metadata", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reverses", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(status = 'pending') = (completed_at IS NULL)",
            name=op.f("ck_entries_completed_iff_not_pending"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'posted', 'voided')", name=op.f("ck_entries_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "reverses"],
            ["entries.community_id", "entries.id"],
            name=op.f("fk_entries_community_id_reverses_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_entries_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_entries")),
        sa.UniqueConstraint(
            "community_id", "reverses", name=op.f("uq_entries_community_id_reverses")
        ),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_idempotency_keys_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("community_id", "scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "members",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hours_account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_members_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_members")),
    )
    op.create_table(
        "accounts",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("normal_sign", sa.SmallInteger(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("balance_min", sa.BigInteger(), nullable=True),
        sa.Column("balance_max", sa.BigInteger(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "normal_sign = CASE WHEN type IN ('asset', 'expense') THEN 1 ELSE -1 END",
            name=op.f("ck_accounts_normal_sign_matches_type"),
        ),
        sa.CheckConstraint(
            "type IN ('asset', 'liability', 'equity', 'income', 'expense')",
            name=op.f("ck_accounts_type_known"),
        ),
        sa.CheckConstraint(
            "balance_max IS NULL OR CASE WHEN normal_sign = 1 THEN debits_posted - credits_posted + debits_pending ELSE credits_posted - debits_posted + credits_pending END <= balance_max",
            name=op.f("ck_accounts_within_balance_max"),
        ),
        sa.CheckConstraint(
            "balance_min IS NULL OR CASE WHEN normal_sign = 1 THEN debits_posted - credits_posted - credits_pending ELSE credits_posted - debits_posted - debits_pending END >= balance_min",
            name=op.f("ck_accounts_within_balance_min"),
        ),
        sa.CheckConstraint(
            "balance_min IS NULL OR balance_max IS NULL OR balance_min <= balance_max",
            name=op.f("ck_accounts_limits_ordered"),
        ),
        sa.CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
            name=op.f("ck_accounts_counters_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "commodity"],
            ["commodities.community_id", "commodities.code"],
            name=op.f("fk_accounts_community_id_commodity_commodities"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "member_id"],
            ["members.community_id", "members.id"],
            name=op.f("fk_accounts_community_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_accounts_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("community_id", "code", name=op.f("uq_accounts_community_id_code")),
        sa.UniqueConstraint(
            "community_id", "id", "commodity", name=op.f("uq_accounts_community_id_id_commodity")
        ),
    )
    op.create_table(
        "postings",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.SmallInteger(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_postings_amount_non_zero")),
        sa.ForeignKeyConstraint(
            ["community_id", "account_id", "commodity"],
            ["accounts.community_id", "accounts.id", "accounts.commodity"],
            name=op.f("fk_postings_community_id_account_id_commodity_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id", "entry_id"],
            ["entries.community_id", "entries.id"],
            name=op.f("fk_postings_community_id_entry_id_entries"),
        ),
        sa.PrimaryKeyConstraint("community_id", "entry_id", "line", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_postings_account_statement",
            ["community_id", "account_id", "effective_date", "entry_id"],
            unique=False,
        )
    create_guards(op.get_bind().dialect.name)


def downgrade() -> None:
    drop_guards(op.get_bind().dialect.name)
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index("ix_postings_account_statement")

    op.drop_table("postings")
    op.drop_table("accounts")
    op.drop_table("members")
    op.drop_table("idempotency_keys")
    op.drop_table("entries")
    op.drop_table("commodities")
    op.drop_table("communities")


# Guards the database keeps by itself, so that a bug in Python (or a hand-written statement)
# cannot unbalance the books or rewrite history.
_PG_GUARDS = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of % is not allowed: the ledger is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- An entry changes once: pending -> posted or voided, setting completed_at and nothing else.
CREATE FUNCTION ledger_check_entry_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'pending' AND NEW.status IN ('posted', 'voided')
       AND (NEW.community_id, NEW.id, NEW.effective_date, NEW.description, NEW.kind,
            NEW.metadata, NEW.created_at, NEW.reverses)
           IS NOT DISTINCT FROM
           (OLD.community_id, OLD.id, OLD.effective_date, OLD.description, OLD.kind,
            OLD.metadata, OLD.created_at, OLD.reverses)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'entry % is %: only a pending entry may become posted or voided',
        OLD.id, OLD.status USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER entries_complete_once BEFORE UPDATE ON entries
    FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_update();

-- At commit: every entry written has >= 2 postings, each commodity sums to zero, and each
-- posting carries its entry's effective date. Checked for each new entry and each new posting
-- (a posting added later to an old entry is caught too).
CREATE FUNCTION ledger_assert_entry_balanced(p_community uuid, p_entry uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM postings
        WHERE community_id = p_community AND entry_id = p_entry) < 2 THEN
        RAISE EXCEPTION 'entry % has fewer than 2 postings', p_entry
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM postings
               WHERE community_id = p_community AND entry_id = p_entry
               GROUP BY commodity HAVING sum(amount) <> 0) THEN
        RAISE EXCEPTION 'entry % is unbalanced', p_entry USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM postings p JOIN entries e
                   ON e.community_id = p.community_id AND e.id = p.entry_id
               WHERE p.community_id = p_community AND p.entry_id = p_entry
                 AND p.effective_date <> e.effective_date) THEN
        RAISE EXCEPTION 'entry % has postings dated apart from it', p_entry
            USING ERRCODE = 'check_violation';
    END IF;
END $$;

CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_assert_entry_balanced(NEW.community_id, NEW.id);
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_assert_entry_balanced(NEW.community_id, NEW.entry_id);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();

CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced();
"""

_PG_DROP_GUARDS = """
DROP TRIGGER postings_balanced ON postings;
DROP TRIGGER entries_balanced ON entries;
DROP TRIGGER entries_complete_once ON entries;
DROP TRIGGER entries_no_delete ON entries;
DROP TRIGGER postings_immutable ON postings;
DROP FUNCTION ledger_posting_balanced();
DROP FUNCTION ledger_entry_balanced();
DROP FUNCTION ledger_assert_entry_balanced(uuid, uuid);
DROP FUNCTION ledger_check_entry_update();
DROP FUNCTION ledger_refuse_change();
"""

_SQLITE_GUARDS = (
    """CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
    BEGIN SELECT RAISE(ABORT, 'UPDATE of postings is not allowed: the ledger is append-only'); END""",
    """CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
    BEGIN SELECT RAISE(ABORT, 'DELETE of postings is not allowed: the ledger is append-only'); END""",
    """CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'DELETE of entries is not allowed: the ledger is append-only'); END""",
    """CREATE TRIGGER entries_complete_once BEFORE UPDATE ON entries
    WHEN NOT (OLD.status = 'pending' AND NEW.status IN ('posted', 'voided')
              AND NEW.community_id IS OLD.community_id AND NEW.id IS OLD.id
              AND NEW.effective_date IS OLD.effective_date
              AND NEW.description IS OLD.description AND NEW.kind IS OLD.kind
              AND NEW.metadata IS OLD.metadata AND NEW.created_at IS OLD.created_at
              AND NEW.reverses IS OLD.reverses)
    BEGIN SELECT RAISE(ABORT, 'only a pending entry may become posted or voided'); END""",
)

_SQLITE_DROP_GUARDS = (
    "DROP TRIGGER entries_complete_once",
    "DROP TRIGGER entries_no_delete",
    "DROP TRIGGER postings_no_delete",
    "DROP TRIGGER postings_no_update",
)


def create_guards(dialect: str) -> None:
    # One statement per call: asyncpg prepares each, and a prepared statement holds one command.
    statements = _PG_GUARDS.strip().split("\n\n") if dialect == "postgresql" else _SQLITE_GUARDS
    for statement in statements:
        op.execute(statement)


def drop_guards(dialect: str) -> None:
    statements = (
        _PG_DROP_GUARDS.strip().splitlines() if dialect == "postgresql" else _SQLITE_DROP_GUARDS
    )
    for statement in statements:
        op.execute(statement)
