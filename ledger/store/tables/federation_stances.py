"""Federation between installs: each side's stance on a link it shares with another node
(ledger.federation.link_peer).

A link between installs is suspended while either side suspends it and closed once either side
closes it. Each side numbers its own status changes (``sent_seq``) and keeps the partner's latest
one it applied (``partner_seq``) with the partner's stance, so a repeated, delayed or reordered
status message never undoes a later one."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, metadata

federation_link_stances = sa.Table(
    "federation_link_stances",
    metadata,
    sa.Column("community_id", Id, primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("sent_seq", sa.Integer, nullable=False, doc="This side's status changes announced."),
    sa.Column(
        "partner_seq", sa.Integer, nullable=False, doc="The partner's latest change applied."
    ),
    sa.Column("partner_suspended", sa.Boolean, nullable=False),
    sa.ForeignKeyConstraint(
        ["community_id", "link_id"], ["federation_links.community_id", "federation_links.id"]
    ),
)
