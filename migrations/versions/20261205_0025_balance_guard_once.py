"""The balance guard checks an entry once when the entry and its postings are written together.

The deferred constraint triggers ``entries_balanced`` and ``postings_balanced`` ran
``ledger_assert_entry_balanced`` (two queries) for every new entry *and* every new posting: three
times for a two-posting transfer, all at commit, while the write's accounts stay locked. When an
entry and its postings are inserted by one statement (the write path's
``INSERT … unnest(…)``, ``ledger.store.batches``), the entry's own check already sees every
posting of that statement, so a posting's check adds nothing: ``ledger_posting_balanced`` now
skips a posting whose row was written by the same command as its entry's row (the same ``xmin``
and ``cmin``), and checks every other posting as before.

Why that is safe, whatever the statements and ``SET CONSTRAINTS``:

- The entry's event is never skipped, and it fires only after the statement that wrote the entry
  has ended (at commit, or at the end of that statement when set immediate), so its check reads
  every posting that statement wrote.
- A posting written by any other command (a posting added later to an old entry, a posting
  written after the entry's check already ran) has a different command id, or a different
  transaction id, and is checked itself.
- Both rows of one command belong to one (sub)transaction: a rolled-back savepoint takes both
  the skipped posting and the entry's event with it.

One residue: ``cmin`` reads the raw command id, and an entry row whose own update was rolled back
to a savepoint carries a combo id that could, in a long contrived transaction, equal a later
command's id; that posting would be skipped, and caught only if its entry's check had not yet
run. No code of ours adds postings to an entry it has already written, nor sets constraints
immediate (docs/performance.md).

Only the skip decision is new (one query of two primary-key probes instead of the check's two
queries); the check, its three refusals and their messages are unchanged
(``tests/store/test_database_guards.py``). SQLite has no deferred triggers and is unchanged.

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTING_BALANCED = """
CREATE OR REPLACE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_with_entry boolean;
BEGIN
    -- Written by the same command as its entry: the entry's own check (never skipped, fired
    -- after that command ended) reads this posting. Both lookups name a whole primary key.
    SELECT e.xmin = p.xmin AND e.cmin = p.cmin INTO v_with_entry
    FROM entries e, postings p
    WHERE e.community_id = NEW.community_id AND e.id = NEW.entry_id
      AND p.community_id = NEW.community_id AND p.entry_id = NEW.entry_id
      AND p.line = NEW.line;
    IF v_with_entry THEN
        RETURN NULL;
    END IF;
    PERFORM ledger_assert_entry_balanced(NEW.community_id, NEW.entry_id);
    RETURN NULL;
END $$;
"""

_POSTING_BALANCED_0001 = """
CREATE OR REPLACE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_assert_entry_balanced(NEW.community_id, NEW.entry_id);
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_POSTING_BALANCED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_POSTING_BALANCED_0001)
