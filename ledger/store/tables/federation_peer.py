"""Federation between installs: this node's signing keys, the partner nodes' rotated keys bound
to a link, and each link's peer inbox and outbox (ledger.federation.identity, .messages,
.peer_inbox, .courier).

The node's keys are the one node-wide table without ``community_id``: an install has one
identity whatever communities it keeps. The others lead with the community of this side of the
link, like every community's table."""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.tables.base import Id, Json, UTCDateTime, metadata

federation_node_keys = sa.Table(
    "federation_node_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True, doc="RFC 7638 thumbprint of the key."),
    sa.Column("public_jwk", Json, nullable=False),
    sa.Column("private_pem", sa.Text, nullable=False, doc="PKCS#8 PEM of the Ed25519 key."),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("retires_at", UTCDateTime, nullable=True, doc="Null: the signing key."),
)

# Keys a partner node announced after the link was made (rotation), each valid until its
# `retires_at` (null: the partner's current key). The link's own row keeps the first key.
federation_peer_keys = sa.Table(
    "federation_peer_keys",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("public_jwk", Json, nullable=False),
    sa.Column("bound_at", UTCDateTime, nullable=False),
    sa.Column("retires_at", UTCDateTime, nullable=True),
)

# Every state-changing message received, keyed by (link, transfer, step), with the hash of its
# body and the answer given: a repeat gets the same answer, a changed body is refused.
federation_peer_inbox = sa.Table(
    "federation_peer_inbox",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("link_id", Id, primary_key=True),
    sa.Column("transfer_id", Id, primary_key=True),
    sa.Column("step", sa.String(32), primary_key=True),
    sa.Column("body_hash", sa.String(64), nullable=False, doc="SHA-256 of the canonical body."),
    sa.Column("answer", Json, nullable=False, doc="The answer's body, signed anew on a repeat."),
    sa.Column("received_at", UTCDateTime, nullable=False),
)

# Messages to partner nodes, written in the transaction of the state change they announce and
# sent (at least once, with backoff) until the partner's signed answer is recorded. A worker
# leases a message while it sends it.
federation_peer_outbox = sa.Table(
    "federation_peer_outbox",
    metadata,
    sa.Column("community_id", Id, sa.ForeignKey("communities.id"), primary_key=True),
    sa.Column("id", Id, primary_key=True),
    sa.Column("link_id", Id, nullable=False),
    sa.Column("transfer_id", Id, nullable=False),
    sa.Column("step", sa.String(32), nullable=False),
    sa.Column("peer_url", sa.String(2000), nullable=False),
    sa.Column("body", Json, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True, doc="After it, ask for the state."),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_token", Id, nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("done_at", UTCDateTime, nullable=True, doc="When the final answer was recorded."),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.UniqueConstraint("community_id", "link_id", "transfer_id", "step"),
    sa.Index(None, "done_at", "next_attempt_at"),
)
