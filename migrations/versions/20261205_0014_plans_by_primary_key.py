"""Guards whose only sensible plan is the primary key, whatever the planner knows of the tables.

PostgreSQL keeps a prepared statement's plan for the connection's life (after five runs it may
switch to a generic plan and keep it), and the foreign-key checks and PL/pgSQL guards are
prepared statements too. A plan made while ``entries`` was nearly empty, with no statistics
(``autovacuum = off``, or before its first pass), took the unique index ``(community_id,
reverses)`` for a lookup by ``(community_id, id)``: to the planner the two cost the same on an
empty table, and the kept plan then read every entry of the community for each lookup — the
foreign-key check of every posting and the balance trigger's date check, growing with the
history (docs/performance.md).

- The reversal index becomes partial, ``uq_entries_reversal`` (``WHERE reverses IS NOT NULL``):
  at most one reversal per entry as before, but no query that does not name a reversal can use
  it, so the primary key is the only index for an entry by id. It also leaves the index out of
  every non-reversal insert.
- ``ledger_assert_entry_balanced`` reads the entry's date by its primary key and its postings by
  theirs, once: the count, the per-commodity sums and the dates in one pass (two queries where
  there were three, and no join for the planner to order).

SQLite is unchanged: it plans each statement as it prepares it, and changing the constraint
there would rebuild ``entries``.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ASSERT_BALANCED = """
CREATE OR REPLACE FUNCTION ledger_assert_entry_balanced(p_community uuid, p_entry uuid)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_date date;
    v_postings bigint;
    v_unbalanced boolean;
    v_misdated boolean;
BEGIN
    -- Each query names a whole primary key (entries, and the leading part of postings'), so no
    -- plan cached on a near-empty table can turn into a scan of the community.
    SELECT effective_date INTO v_date
    FROM entries WHERE community_id = p_community AND id = p_entry;
    SELECT coalesce(sum(n), 0), coalesce(bool_or(total <> 0), false),
           coalesce(bool_or(misdated), false)
    INTO v_postings, v_unbalanced, v_misdated
    FROM (SELECT count(*) AS n, sum(amount) AS total,
                 bool_or(effective_date <> v_date) AS misdated
          FROM postings WHERE community_id = p_community AND entry_id = p_entry
          GROUP BY commodity) AS per_commodity;
    IF v_postings < 2 THEN
        RAISE EXCEPTION 'entry % has fewer than 2 postings', p_entry
            USING ERRCODE = 'check_violation';
    END IF;
    IF v_unbalanced THEN
        RAISE EXCEPTION 'entry % is unbalanced', p_entry USING ERRCODE = 'check_violation';
    END IF;
    IF v_misdated THEN
        RAISE EXCEPTION 'entry % has postings dated apart from it', p_entry
            USING ERRCODE = 'check_violation';
    END IF;
END $$;
"""

_ASSERT_BALANCED_0001 = """
CREATE OR REPLACE FUNCTION ledger_assert_entry_balanced(p_community uuid, p_entry uuid)
RETURNS void LANGUAGE plpgsql AS $$
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
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint("uq_entries_community_id_reverses", "entries", type_="unique")
    op.execute(
        "CREATE UNIQUE INDEX uq_entries_reversal ON entries (community_id, reverses)"
        " WHERE reverses IS NOT NULL"
    )
    op.execute(_ASSERT_BALANCED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_ASSERT_BALANCED_0001)
    op.drop_index("uq_entries_reversal", table_name="entries")
    op.create_unique_constraint(
        "uq_entries_community_id_reverses", "entries", ["community_id", "reverses"]
    )
