"""SQL of webhook subscriptions, their leases and their delivery log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ledger.events.webhooks import Delivery, Webhook
from ledger.store.events import SqlEventStore
from ledger.store.scoped import ScopedStore
from ledger.store.tables import communities, webhook_deliveries, webhooks

_ACTIVE = sa.and_(webhooks.c.status == "active", webhooks.c.deleted.is_(False))


class SqlWebhookStore(ScopedStore):
    """Webhook subscriptions and their deliveries over one unit of work's connection."""

    async def last_position(self, community_id: uuid.UUID) -> tuple[int, int]:
        return await SqlEventStore(self._conn).last_position(community_id)

    async def insert(self, webhook: Webhook, secret: str) -> None:
        await self._conn.execute(
            webhooks.insert().values(
                community_id=webhook.community_id,
                id=webhook.id,
                url=webhook.url,
                types=list(webhook.types),
                secret=secret,
                description=webhook.description,
                created_at=webhook.created_at,
                status=webhook.status,
                after_seq=webhook.after[0],
                after_n=webhook.after[1],
                attempts=webhook.attempts,
                next_attempt_at=webhook.next_attempt_at,
                deleted=False,
            )
        )

    async def get(self, community_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None:
        row = (
            await self._conn.execute(
                sa.select(webhooks).where(
                    webhooks.c.community_id == community_id,
                    webhooks.c.id == webhook_id,
                    webhooks.c.deleted.is_(False),
                )
            )
        ).first()
        return None if row is None else _webhook(row._mapping)

    async def list(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Webhook]:
        query = sa.select(webhooks).where(
            webhooks.c.community_id == community_id, webhooks.c.deleted.is_(False)
        )
        if after is not None:
            query = query.where(webhooks.c.id > after)
        rows = await self._conn.execute(query.order_by(webhooks.c.id).limit(limit))
        return [_webhook(row._mapping) for row in rows]

    async def delete(self, community_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
        await self._conn.execute(
            _update(community_id, webhook_id).values(deleted=True, lease_token=None)
        )

    async def resume(self, community_id: uuid.UUID, webhook_id: uuid.UUID, now: datetime) -> None:
        await self._conn.execute(
            _update(community_id, webhook_id).values(
                status="active", attempts=0, next_attempt_at=now
            )
        )

    async def deliveries(
        self,
        community_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Delivery]:
        query = sa.select(webhook_deliveries).where(
            webhook_deliveries.c.community_id == community_id,
            webhook_deliveries.c.webhook_id == webhook_id,
        )
        if after is not None:
            query = query.where(webhook_deliveries.c.id > after)
        rows = await self._conn.execute(query.order_by(webhook_deliveries.c.id).limit(limit))
        return [Delivery(**row._mapping) for row in rows]

    # Delivery ---------------------------------------------------------------------------------

    async def due(self, now: datetime, limit: int) -> Sequence[tuple[Webhook, str, str]]:
        """Active subscriptions of every community whose next attempt is due and that no worker
        holds, with their secret and their community's slug."""
        rows = await self._conn.execute(
            sa.select(webhooks, communities.c.slug)
            .join(communities, communities.c.id == webhooks.c.community_id)
            .where(
                _ACTIVE,
                webhooks.c.next_attempt_at <= now,
                sa.or_(webhooks.c.lease_until.is_(None), webhooks.c.lease_until < now),
            )
            .order_by(webhooks.c.next_attempt_at)
            .limit(limit)
        )
        return [(_webhook(row._mapping), row.secret, row.slug) for row in rows]

    async def lease(
        self, webhook: Webhook, token: uuid.UUID, now: datetime, until: datetime
    ) -> Webhook | None:
        """Takes the subscription for one worker until ``until`` — unless another holds it, or
        it changed (paused, deleted, not due) — and returns its current state."""
        taken = await self._conn.execute(
            _update(webhook.community_id, webhook.id)
            .where(
                _ACTIVE,
                webhooks.c.next_attempt_at <= now,
                sa.or_(webhooks.c.lease_until.is_(None), webhooks.c.lease_until < now),
            )
            .values(lease_token=token, lease_until=until)
        )
        if taken.rowcount != 1:
            return None
        return await self.get(webhook.community_id, webhook.id)

    async def record(
        self, state: Webhook, delivery: Delivery, token: uuid.UUID, until: datetime
    ) -> bool:
        """Logs the attempt and stores the subscription's next state, if ``token`` still holds
        its lease (a worker whose lease ran out records nothing: another took over)."""
        moved = await self._conn.execute(
            _update(state.community_id, state.id)
            .where(webhooks.c.lease_token == token)
            .values(
                status=state.status,
                after_seq=state.after[0],
                after_n=state.after[1],
                attempts=state.attempts,
                next_attempt_at=state.next_attempt_at,
                lease_until=until,
            )
        )
        if moved.rowcount != 1:
            return False
        await self._conn.execute(
            webhook_deliveries.insert().values(
                community_id=delivery.community_id,
                id=delivery.id,
                webhook_id=delivery.webhook_id,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                attempt=delivery.attempt,
                attempted_at=delivery.attempted_at,
                duration_ms=delivery.duration_ms,
                status_code=delivery.status_code,
                error=delivery.error,
                delivered=delivery.delivered,
            )
        )
        return True

    async def release(self, webhook: Webhook, token: uuid.UUID) -> None:
        await self._conn.execute(
            _update(webhook.community_id, webhook.id)
            .where(webhooks.c.lease_token == token)
            .values(lease_token=None, lease_until=None)
        )


def _update(community_id: uuid.UUID, webhook_id: uuid.UUID) -> sa.Update:
    return webhooks.update().where(
        webhooks.c.community_id == community_id, webhooks.c.id == webhook_id
    )


def _webhook(row: Any) -> Webhook:
    return Webhook(
        community_id=row["community_id"],
        id=row["id"],
        url=row["url"],
        types=tuple(row["types"]),
        description=row["description"],
        created_at=row["created_at"],
        status=row["status"],
        after=(row["after_seq"], row["after_n"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
    )
