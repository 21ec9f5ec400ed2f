"""SQL of federation between installs: this node's keys, partner keys bound to links, the peer
inbox and the peer outbox with its leases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ledger.federation.identity import NodeKey, PublicKey, key_from_text
from ledger.federation.messages import LinkPeer
from ledger.federation.peer_store import InboxKey, Outbound, Received
from ledger.kernel import errors
from ledger.store.scoped import ScopedStore
from ledger.store.tables import (
    federation_links,
    federation_node_keys,
    federation_peer_inbox,
    federation_peer_keys,
    federation_peer_outbox,
)
from ledger.store.unique import insert_unique

_outbox = federation_peer_outbox
_OPEN = _outbox.c.done_at.is_(None)


class SqlPeerStore(ScopedStore):
    # This node's keys --------------------------------------------------------------------------

    async def keys(self) -> list[NodeKey]:
        rows = await self._conn.execute(
            sa.select(federation_node_keys).order_by(
                federation_node_keys.c.created_at.desc(), federation_node_keys.c.kid
            )
        )
        return [
            NodeKey(
                PublicKey(row.kid, dict(row.public_jwk), row.retires_at),
                row.private_pem,
                row.created_at,
            )
            for row in rows
        ]

    async def insert(self, key: NodeKey) -> None:
        await self._conn.execute(
            federation_node_keys.insert().values(
                kid=key.kid,
                public_jwk=key.public.jwk,
                private_pem=key.private_pem,
                created_at=key.created_at,
                retires_at=None,
            )
        )

    async def retire(self, kid: str, at: datetime) -> None:
        await self._conn.execute(
            federation_node_keys.update()
            .where(federation_node_keys.c.kid == kid)
            .values(retires_at=at)
        )

    # Partner keys --------------------------------------------------------------------------------

    async def peer(self, link_id: uuid.UUID, now: datetime) -> LinkPeer | None:
        found = await _link_peer(self._conn, link_id)
        if found is None:
            return None
        community_id, peer_url, first_key = found
        rows = await self._conn.execute(
            sa.select(federation_peer_keys).where(
                federation_peer_keys.c.community_id == community_id,
                federation_peer_keys.c.link_id == link_id,
            )
        )
        rotated = [PublicKey(row.kid, dict(row.public_jwk), row.retires_at) for row in rows]
        keys = [key for key in rotated if key.valid_at(now)]
        if first_key is not None and all(key.kid != first_key.kid for key in rotated):
            keys.append(first_key)
        return LinkPeer(link_id, community_id, peer_url, tuple(keys))

    async def remote_links(self) -> Sequence[tuple[uuid.UUID, uuid.UUID, str]]:
        links = federation_links
        rows = await self._conn.execute(
            sa.select(links.c.community_id, links.c.id, links.c.partner_node_url).where(
                links.c.partner_node_url.is_not(None), links.c.status != "closed"
            )
        )
        return [(row.community_id, row.id, row.partner_node_url) for row in rows]

    async def bind_key(
        self, peer: LinkPeer, key: PublicKey, now: datetime, previous_until: datetime
    ) -> None:
        for old in peer.keys:
            if old.kid == key.kid:
                continue
            ends = old.retires_at
            await self._upsert_key(
                peer, old, now, ends if ends and ends < previous_until else previous_until
            )
        await self._upsert_key(peer, key, now, None)

    async def _upsert_key(
        self, peer: LinkPeer, key: PublicKey, now: datetime, until: datetime | None
    ) -> None:
        where = sa.and_(
            federation_peer_keys.c.community_id == peer.community_id,
            federation_peer_keys.c.link_id == peer.link_id,
            federation_peer_keys.c.kid == key.kid,
        )
        await self._conn.execute(federation_peer_keys.delete().where(where))
        await self._conn.execute(
            federation_peer_keys.insert().values(
                community_id=peer.community_id,
                link_id=peer.link_id,
                kid=key.kid,
                public_jwk=key.jwk,
                bound_at=now,
                retires_at=until,
            )
        )

    # The inbox ---------------------------------------------------------------------------------

    async def lock_link(self, community_id: uuid.UUID, link_id: uuid.UUID) -> None:
        links = federation_links
        await self._conn.execute(
            sa.select(links.c.id)
            .where(links.c.community_id == community_id, links.c.id == link_id)
            .with_for_update()
        )

    async def received(self, key: InboxKey) -> Received | None:
        inbox = federation_peer_inbox
        row = (
            await self._conn.execute(
                sa.select(inbox.c.body_hash, inbox.c.answer).where(
                    inbox.c.community_id == key.community_id,
                    inbox.c.link_id == key.link_id,
                    inbox.c.transfer_id == key.transfer_id,
                    inbox.c.step == key.step,
                )
            )
        ).first()
        return None if row is None else Received(row.body_hash, dict(row.answer))

    async def remember(self, key: InboxKey, received: Received, now: datetime) -> None:
        # A concurrent twin got here first: the sender asks again and gets the stored answer.
        await insert_unique(
            self._conn,
            federation_peer_inbox,
            {
                "community_id": key.community_id,
                "link_id": key.link_id,
                "transfer_id": key.transfer_id,
                "step": key.step,
                "body_hash": received.body_hash,
                "answer": received.answer,
                "received_at": now,
            },
            errors.IdempotencyInFlight("the same message is being handled; ask again"),
        )

    # The outbox --------------------------------------------------------------------------------

    async def enqueue(self, message: Outbound) -> None:
        exists = await self._conn.execute(
            sa.select(_outbox.c.id).where(
                _outbox.c.community_id == message.community_id,
                _outbox.c.link_id == message.link_id,
                _outbox.c.transfer_id == message.transfer_id,
                _outbox.c.step == message.step,
            )
        )
        if exists.first() is not None:
            return
        await self._conn.execute(
            _outbox.insert().values(
                community_id=message.community_id,
                id=message.id,
                link_id=message.link_id,
                transfer_id=message.transfer_id,
                step=message.step,
                peer_url=message.peer_url,
                body=message.body,
                created_at=message.created_at,
                expires_at=message.expires_at,
                attempts=message.attempts,
                next_attempt_at=message.next_attempt_at,
            )
        )

    async def due(self, now: datetime, limit: int) -> Sequence[Outbound]:
        rows = await self._conn.execute(
            sa.select(_outbox)
            .where(_OPEN, _outbox.c.next_attempt_at <= now, _free(now))
            .order_by(_outbox.c.next_attempt_at)
            .limit(limit)
        )
        return [_outbound(row._mapping) for row in rows]

    async def lease(
        self, message: Outbound, token: uuid.UUID, now: datetime, until: datetime
    ) -> bool:
        taken = await self._conn.execute(
            _update(message)
            .where(_OPEN, _outbox.c.next_attempt_at <= now, _free(now))
            .values(lease_token=token, lease_until=until)
        )
        return taken.rowcount == 1

    async def retry(
        self, message: Outbound, token: uuid.UUID, next_attempt_at: datetime, error: str
    ) -> None:
        await self._conn.execute(
            _update(message)
            .where(_outbox.c.lease_token == token)
            .values(
                attempts=_outbox.c.attempts + 1,
                next_attempt_at=next_attempt_at,
                last_error=error,
                lease_token=None,
                lease_until=None,
            )
        )

    async def done(self, message: Outbound, token: uuid.UUID, now: datetime) -> bool:
        moved = await self._conn.execute(
            _update(message)
            .where(_outbox.c.lease_token == token)
            .values(
                done_at=now,
                attempts=_outbox.c.attempts + 1,
                last_error=None,
                lease_token=None,
                lease_until=None,
            )
        )
        return moved.rowcount == 1

    async def end_messages(self, community_id: uuid.UUID, link_id: uuid.UUID, now: datetime) -> int:
        ended = await self._conn.execute(
            _outbox.update()
            .where(_OPEN, _outbox.c.community_id == community_id, _outbox.c.link_id == link_id)
            .values(done_at=now, last_error="partner abandoned", lease_token=None, lease_until=None)
        )
        return int(ended.rowcount)

    async def waiting(self, community_id: uuid.UUID | None = None) -> Sequence[Outbound]:
        query = sa.select(_outbox).where(_OPEN)
        if community_id is not None:
            query = query.where(_outbox.c.community_id == community_id)
        rows = await self._conn.execute(query.order_by(_outbox.c.created_at))
        return [_outbound(row._mapping) for row in rows]


def _free(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(_outbox.c.lease_until.is_(None), _outbox.c.lease_until < now)


def _update(message: Outbound) -> sa.Update:
    return _outbox.update().where(
        _outbox.c.community_id == message.community_id, _outbox.c.id == message.id
    )


def _outbound(row: Any) -> Outbound:
    return Outbound(
        community_id=row["community_id"],
        id=row["id"],
        link_id=row["link_id"],
        transfer_id=row["transfer_id"],
        step=row["step"],
        peer_url=row["peer_url"],
        body=dict(row["body"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
    )


async def _link_peer(
    connection: Any, link_id: uuid.UUID
) -> tuple[uuid.UUID, str, PublicKey | None] | None:
    """This node's side of a link to another node: its community, the partner node's URL and
    the key the link was made with (None if it does not parse). Reads
    ``ledger.store.tables.federation``'s links: only those whose partner is on another node."""
    links = federation_links
    row = (
        await connection.execute(
            sa.select(
                links.c.community_id, links.c.partner_node_url, links.c.partner_node_key
            ).where(links.c.id == link_id, links.c.partner_node_url.is_not(None))
        )
    ).first()
    if row is None:
        return None
    try:
        key = key_from_text(row.partner_node_key) if row.partner_node_key else None
    except errors.InvalidInput:
        key = None
    return row.community_id, row.partner_node_url, key
