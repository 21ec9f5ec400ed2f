"""A link's journal order between installs and its signed checkpoints
(``ledger.federation.sequencing``, ``ledger.federation.checkpoints``).

Movements the side that does not keep the link's order has posted but cannot append yet wait in
``federation_journal_held``: without a seq until the link's proposer gives one, or with one whose
predecessor has not arrived. Each checkpoint exchanged with the partner node is kept in
``federation_checkpoints``: this side's (seq, chain hash, balances) and the partner's, signed."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, Json, UTCDateTime, metadata

federation_journal_held = sa.Table(
    "federation_journal_held",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("transfer_id", Id, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=True, doc="Null: the proposer has not given it."),
    sa.Column("from_proposer", sa.Boolean, nullable=False),
    sa.Column("commodity_sent", sa.String(24), nullable=False),
    sa.Column("amount_sent", sa.BigInteger, nullable=False),
    sa.Column("commodity_received", sa.String(24), nullable=False),
    sa.Column("amount_received", sa.BigInteger, nullable=False),
    sa.Column("held_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id"], ["federation_links.community_id", "federation_links.id"]
    ),
    sa.UniqueConstraint("community_id", "link_id", "seq"),
    sa.CheckConstraint("seq >= 1", name="held_seq_positive"),
)

federation_checkpoints = sa.Table(
    "federation_checkpoints",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False, doc="This side's chain hash at seq."),
    sa.Column("balances", Json, nullable=False, doc="What this side owes, its units."),
    sa.Column("partner_balances", Json, nullable=False, doc="What the partner owes, its units."),
    sa.Column("partner_hash", sa.String(64), nullable=False),
    sa.Column("partner_signed", sa.Text, nullable=False, doc="The partner's signed checkpoint."),
    sa.Column("agrees", sa.Boolean, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id"], ["federation_links.community_id", "federation_links.id"]
    ),
)
