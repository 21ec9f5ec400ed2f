"""Room on the accounts' pages for the counters' updates (PostgreSQL: ``fillfactor = 80``).

Every write updates the maintained counters of its accounts (``ledger.store.accounts``). An
``UPDATE`` whose new row version fits on the row's own page is a HOT update: no new entry in any of
the table's three indexes and one WAL record. Filled to 100 % (the default), a page had room only
where pruning had freed some, and under steady random transfers about one counter update in ten
went to another page and wrote all three indexes (measured with ``bench.pg_statements`` on the
service: 1,424 of 1,585 updates HOT; with 80 %, 1,745 of 1,745). A fifth of each page of a table of
a few thousand to a few hundred thousand rows is a small price.

The setting applies to pages written from now on: accounts created before it keep their full
pages until the table is rewritten (``VACUUM FULL accounts``, in a quiet moment;
docs/operations.md). SQLite has no such setting (it updates rows in place).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE accounts SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE accounts RESET (fillfactor)")
