"""The books: communities, their commodities and members, accounts with their maintained
balance, and entries with their postings."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from ledger.store.tables.base import Id, Json, UTCDateTime, metadata, only_on

communities = sa.Table(
    "communities",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


commodities = sa.Table(
    "commodities",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("code", sa.String(24), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("scale", sa.SmallInteger, nullable=False),
    sa.CheckConstraint("scale BETWEEN 0 AND 9", name="scale_range"),
)


members = sa.Table(
    "members",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("hours_account_id", Id, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(120), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column(
        "normal_sign",
        sa.SmallInteger,
        nullable=False,
        doc="+1 for debit-normal types (asset, expense), −1 for credit-normal ones.",
    ),
    sa.Column("commodity", sa.String(24), nullable=False),
    sa.Column("member_id", Id, nullable=True),
    sa.Column("balance_min", sa.BigInteger, nullable=True, doc="Normal-direction floor."),
    sa.Column("balance_max", sa.BigInteger, nullable=True, doc="Normal-direction ceiling."),
    sa.Column("closed", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column(
        "guarded",
        sa.Boolean,
        nullable=False,
        server_default=sa.false(),
        doc="Lowered only by disbursements, with a floor of at least 0: the emergency fund.",
    ),
    # The maintained balance: four non-negative totals, smallest unit of the commodity.
    sa.Column("debits_posted", sa.BigInteger, nullable=False),
    sa.Column("credits_posted", sa.BigInteger, nullable=False),
    sa.Column("debits_pending", sa.BigInteger, nullable=False),
    sa.Column("credits_pending", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("community_id", "code"),
    # Target of the postings' foreign key, which pins a posting's commodity to its account's.
    sa.UniqueConstraint("community_id", "id", "commodity"),
    sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
    sa.ForeignKeyConstraint(
        ["community_id", "commodity"], ["commodities.community_id", "commodities.code"]
    ),
    sa.ForeignKeyConstraint(["community_id", "member_id"], ["members.community_id", "members.id"]),
    sa.CheckConstraint(
        "type IN ('asset', 'liability', 'equity', 'income', 'expense')", name="type_known"
    ),
    sa.CheckConstraint(
        "normal_sign = CASE WHEN type IN ('asset', 'expense') THEN 1 ELSE -1 END",
        name="normal_sign_matches_type",
    ),
    sa.CheckConstraint(
        "debits_posted >= 0 AND credits_posted >= 0 "
        "AND debits_pending >= 0 AND credits_pending >= 0",
        name="counters_non_negative",
    ),
    sa.CheckConstraint(
        "balance_min IS NULL OR balance_max IS NULL OR balance_min <= balance_max",
        name="limits_ordered",
    ),
    # The limits, enforced by the database too: the balance counting every pending reservation
    # that lowers it stays >= balance_min, and counting every one that raises it <= balance_max.
    sa.CheckConstraint(
        "balance_min IS NULL OR CASE WHEN normal_sign = 1 "
        "THEN debits_posted - credits_posted - credits_pending "
        "ELSE credits_posted - debits_posted - debits_pending END >= balance_min",
        name="within_balance_min",
    ),
    sa.CheckConstraint(
        "balance_max IS NULL OR CASE WHEN normal_sign = 1 "
        "THEN debits_posted - credits_posted + debits_pending "
        "ELSE credits_posted - debits_posted + credits_pending END <= balance_max",
        name="within_balance_max",
    ),
    # Room on each page for the counters' new row versions: every write updates its accounts,
    # and an update that fits its page is HOT (no new entry in the three indexes; migration 0026).
    postgresql_with={"fillfactor": 80},
)


entries = sa.Table(
    "entries",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True, doc="UUIDv7: sorts by creation time."),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("description", sa.String(1000), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Column("reverses", Id, nullable=True),
    # At most one reversal per entry. On PostgreSQL a partial index of the reversals alone
    # (migration 0014): a full index led by ``community_id`` tied with the primary key in the
    # planner's eyes while the table was nearly empty, and plans cached then read the whole
    # community for each lookup by id (docs/performance.md). SQLite, whose plans are not kept
    # across a table's growth, keeps the constraint (changing it would rebuild the table).
    only_on("sqlite", sa.UniqueConstraint("community_id", "reverses")),
    only_on(
        "postgresql",
        sa.Index(
            "uq_entries_reversal",
            "community_id",
            "reverses",
            unique=True,
            postgresql_where=sa.text("reverses IS NOT NULL"),
        ),
    ),
    sa.ForeignKeyConstraint(["community_id", "reverses"], ["entries.community_id", "entries.id"]),
    sa.CheckConstraint("status IN ('pending', 'posted', 'voided')", name="status_known"),
    sa.CheckConstraint(
        "(status = 'pending') = (completed_at IS NULL)", name="completed_iff_not_pending"
    ),
    # The few entries not posted: reports sum all postings and subtract these (no status join).
    sa.Index(
        "ix_entries_unposted",
        "community_id",
        "id",
        postgresql_where=sa.text("status <> 'posted'"),
        sqlite_where=sa.text("status <> 'posted'"),
    ),
)


postings = sa.Table(
    "postings",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("entry_id", Id, primary_key=True),
    sa.Column("line", sa.SmallInteger, primary_key=True, doc="0-based position in the entry."),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("commodity", sa.String(24), nullable=False),
    sa.Column(
        "amount",
        sa.BigInteger,
        nullable=False,
        doc="Smallest unit of the commodity; positive debits, negative credits.",
    ),
    sa.Column("effective_date", sa.Date, nullable=False, doc="The entry's, for statements."),
    sa.ForeignKeyConstraint(["community_id", "entry_id"], ["entries.community_id", "entries.id"]),
    sa.ForeignKeyConstraint(
        ["community_id", "account_id", "commodity"],
        ["accounts.community_id", "accounts.id", "accounts.commodity"],
    ),
    sa.CheckConstraint("amount <> 0", name="amount_non_zero"),
    sa.Index(
        "ix_postings_account_statement", "community_id", "account_id", "effective_date", "entry_id"
    ),
    # Date ranges of a community's postings: balances as of a recent date (the counters less
    # the postings after it) and reports' bounded windows. PostgreSQL answers them from the
    # index alone. On SQLite the key stays the date: a key covering account and amount would
    # win the per-account queries too when the database has no statistics (the service runs
    # no ANALYZE), each then a scan of the community's postings.
    sa.Index(
        "ix_postings_by_date",
        "community_id",
        "effective_date",
        postgresql_include=["account_id", "amount"],
    ),
)


def postings_by_account(dialect_name: str) -> sa.ColumnElement[Any]:
    """The posting's account as the GROUP BY key of a sum over a date range. SQLite would read
    the range through ``ix_postings_account_statement`` (its order spares sorting the groups) at
    a table lookup per posting of the community; ``+`` makes the key an expression that index
    cannot order, so it reads only the range's postings through ``ix_postings_by_date``."""
    if dialect_name == "sqlite":
        return sa.literal_column("+postings.account_id")
    return postings.c.account_id


def reversed_by(end: date) -> sa.ColumnElement[bool]:
    """Whether the entry of ``entries`` in the query is undone by a posted reversal dated on or
    before ``end`` (the sustainability report's and the member page's confirmed exchanges)."""
    e = entries.c
    reversal = entries.alias("reversal")
    return sa.exists().where(
        reversal.c.community_id == e.community_id,
        reversal.c.reverses == e.id,
        # Implied by the equality, but said: PostgreSQL then reads the few reversals from the
        # unique index instead of hashing every entry.
        reversal.c.reverses.is_not(None),
        reversal.c.status == "posted",
        reversal.c.effective_date <= end,
    )
