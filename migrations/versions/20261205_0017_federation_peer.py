"""Federation between installs: the node's signing keys, partner keys bound to links after a
rotation, and the peer inbox and outbox of each link.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_AT = sa.DateTime(timezone=True)


def _community() -> sa.Column[sa.Uuid[object]]:
    return sa.Column("community_id", sa.Uuid(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "federation_node_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", _JSON, nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("retires_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_federation_node_keys")),
    )
    op.create_table(
        "federation_peer_keys",
        _community(),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", _JSON, nullable=False),
        sa.Column("bound_at", _AT, nullable=False),
        sa.Column("retires_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_federation_peer_keys_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "link_id", "kid", name=op.f("pk_federation_peer_keys")
        ),
    )
    op.create_table(
        "federation_peer_inbox",
        _community(),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("answer", _JSON, nullable=False),
        sa.Column("received_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_federation_peer_inbox_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "link_id", "transfer_id", "step", name=op.f("pk_federation_peer_inbox")
        ),
    )
    op.create_table(
        "federation_peer_outbox",
        _community(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("peer_url", sa.String(length=2000), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=False),
        sa.Column("lease_token", sa.Uuid(), nullable=True),
        sa.Column("lease_until", _AT, nullable=True),
        sa.Column("done_at", _AT, nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_federation_peer_outbox_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("community_id", "id", name=op.f("pk_federation_peer_outbox")),
        sa.UniqueConstraint(
            "community_id",
            "link_id",
            "transfer_id",
            "step",
            name=op.f("uq_federation_peer_outbox_community_id_link_id_transfer_id_step"),
        ),
    )
    op.create_index(
        op.f("ix_federation_peer_outbox_done_at_next_attempt_at"),
        "federation_peer_outbox",
        ["done_at", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_federation_peer_outbox_done_at_next_attempt_at"),
        table_name="federation_peer_outbox",
    )
    op.drop_table("federation_peer_outbox")
    op.drop_table("federation_peer_inbox")
    op.drop_table("federation_peer_keys")
    op.drop_table("federation_node_keys")
