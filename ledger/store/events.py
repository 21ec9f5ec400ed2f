"""SQL of the event feed: a community's events after a position, in feed order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ledger.audit.outbox import Event
from ledger.store.scoped import ScopedStore
from ledger.store.tables import events


class SqlEventStore(ScopedStore):
    """A community's event feed over one unit of work's connection."""

    async def list_events(
        self,
        community_id: uuid.UUID,
        *,
        after: tuple[int, int],
        types: Sequence[str] | None,
        limit: int,
    ) -> list[Event]:
        """Up to ``limit`` events after ``after`` (seq, n), of ``types`` when given."""
        # A row-value comparison: both engines walk the primary key index from the position.
        query = sa.select(events).where(
            events.c.community_id == community_id,
            sa.tuple_(events.c.seq, events.c.n) > sa.tuple_(*after),
        )
        if types is not None:
            query = query.where(events.c.type.in_(types))
        rows = await self._conn.execute(query.order_by(events.c.seq, events.c.n).limit(limit))
        return [event_of(row._mapping) for row in rows]

    async def last_position(self, community_id: uuid.UUID) -> tuple[int, int]:
        """The position of the community's newest event, (0, 0) when it has none."""
        row = (
            await self._conn.execute(
                sa.select(events.c.seq, events.c.n)
                .where(events.c.community_id == community_id)
                .order_by(events.c.seq.desc(), events.c.n.desc())
                .limit(1)
            )
        ).first()
        return (0, 0) if row is None else (row.seq, row.n)


def event_of(row: Any) -> Event:
    return Event(
        community_id=row["community_id"],
        seq=row["seq"],
        n=row["n"],
        id=row["id"],
        type=row["type"],
        occurred_at=row["occurred_at"],
        resource_kind=row["resource_kind"],
        resource_id=row["resource_id"],
        data=row["data"],
        member_ids=tuple(uuid.UUID(value) for value in row["member_ids"]),
        account_ids=tuple(uuid.UUID(value) for value in row["account_ids"]),
    )
