"""Storing and reading report snapshots: rows are inserted once and never updated (on
PostgreSQL a trigger refuses UPDATE and DELETE); one per community, report and period."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.store.tables import communities as communities_table
from ledger.store.tables import report_snapshots

_S = report_snapshots.c


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    id: uuid.UUID
    report: str
    period_start: date
    period_end: date
    fingerprint: str
    generated_at: datetime


_COLUMNS = (_S.id, _S.report, _S.period_start, _S.period_end, _S.fingerprint, _S.generated_at)


async def insert(
    conn: AsyncConnection, community_id: uuid.UUID, row: SnapshotRow, content: bytes
) -> bool:
    """Stores the snapshot unless its period has one already; whether it was stored. The
    existence check and the UNIQUE constraint together: a concurrent twin fails the insert."""
    if await find(conn, community_id, row.report, row.period_start, row.period_end) is not None:
        return False
    values = {column.name: getattr(row, column.name) for column in _COLUMNS}
    try:
        async with conn.begin_nested():
            await conn.execute(
                report_snapshots.insert().values(
                    community_id=community_id, content=content, **values
                )
            )
    except sa.exc.IntegrityError:
        return False
    return True


async def find(
    conn: AsyncConnection, community_id: uuid.UUID, report: str, start: date, end: date
) -> SnapshotRow | None:
    found = (
        await conn.execute(
            sa.select(*_COLUMNS).where(
                _S.community_id == community_id,
                _S.report == report,
                _S.period_start == start,
                _S.period_end == end,
            )
        )
    ).first()
    return None if found is None else SnapshotRow(*found)


async def list_all(conn: AsyncConnection, community_id: uuid.UUID) -> list[SnapshotRow]:
    rows = await conn.execute(
        sa.select(*_COLUMNS)
        .where(_S.community_id == community_id)
        .order_by(_S.period_end.desc(), _S.period_start, _S.id)
    )
    return [SnapshotRow(*row) for row in rows]


async def content_of(
    conn: AsyncConnection, community_id: uuid.UUID, snapshot_id: uuid.UUID
) -> bytes | None:
    content = await conn.scalar(
        sa.select(_S.content).where(_S.community_id == community_id, _S.id == snapshot_id)
    )
    return None if content is None else bytes(content)


async def communities(conn: AsyncConnection) -> list[tuple[uuid.UUID, str, str, datetime]]:
    """Every community (id, slug, name, created_at), for the periodic snapshot job."""
    c = communities_table.c
    rows = await conn.execute(sa.select(c.id, c.slug, c.name, c.created_at).order_by(c.slug))
    return [(row.id, row.slug, row.name, row.created_at) for row in rows]
