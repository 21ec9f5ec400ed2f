"""SQL of entries and their postings (written once, completed once, never edited)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel.model import Entry, EntryStatus, Posting
from ledger.store import unnest
from ledger.store.tables import entries, postings, reversed_by

# Built once: a statement object keeps its cache key (see ``ledger.store.accounts``).
_INSERT_ENTRY = entries.insert()
_INSERT_POSTINGS = postings.insert()
# PostgreSQL: entries and their postings in one statement, compiled once for any count. One
# statement is also what lets the deferred balance guard check each entry once rather than once
# more for every posting (migration 0025: a posting written by its entry's command is skipped).
INSERT_WITH_POSTINGS = unnest.insert(postings, "p_").add_cte(
    unnest.insert(entries, "e_").cte("new_entries")
)


class SqlEntries:
    """Entries and their postings over one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def insert_entry(self, entry: Entry) -> None:
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(INSERT_WITH_POSTINGS, with_postings_params([entry]))
            return
        await self._conn.execute(_INSERT_ENTRY, entry_row(entry))
        await self._conn.execute(_INSERT_POSTINGS, posting_rows(entry))

    async def get_entry(
        self, community_id: uuid.UUID, entry_id: uuid.UUID, *, lock: bool = False
    ) -> Entry | None:
        query = sa.select(entries).where(
            entries.c.community_id == community_id, entries.c.id == entry_id
        )
        if lock:
            query = query.with_for_update(key_share=True)
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        return (await self._with_postings(community_id, [row]))[0]

    async def list_entries(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
        account_ids: Sequence[uuid.UUID] | None = None,
        kind: str | None = None,
        status: EntryStatus | None = None,
        effective_from: date | None = None,
        effective_before: date | None = None,
        newest_first: bool = False,
        not_reversed_by: date | None = None,
    ) -> Sequence[Entry]:
        query = sa.select(entries).where(entries.c.community_id == community_id)
        if not_reversed_by is not None:
            query = query.where(~reversed_by(not_reversed_by))
        if after is not None:
            query = query.where(entries.c.id < after if newest_first else entries.c.id > after)
        if kind is not None:
            query = query.where(entries.c.kind == kind)
        if status is not None:
            query = query.where(entries.c.status == status.value)
        if effective_from is not None:
            query = query.where(entries.c.effective_date >= effective_from)
        if effective_before is not None:
            query = query.where(entries.c.effective_date < effective_before)
        if account_ids is not None:
            touching = sa.select(postings.c.entry_id).where(
                postings.c.community_id == community_id,
                postings.c.entry_id == entries.c.id,
                postings.c.account_id.in_(account_ids),
            )
            # A posting carries its entry's date: the account's statement index then finds
            # the dates' postings instead of every posting of the account.
            if effective_from is not None:
                touching = touching.where(postings.c.effective_date >= effective_from)
            if effective_before is not None:
                touching = touching.where(postings.c.effective_date < effective_before)
            query = query.where(touching.exists())
        order = entries.c.id.desc() if newest_first else entries.c.id
        rows = (await self._conn.execute(query.order_by(order).limit(limit))).all()
        return await self._with_postings(community_id, rows)

    async def _with_postings(
        self, community_id: uuid.UUID, rows: Sequence[sa.Row[Any]]
    ) -> list[Entry]:
        if not rows:
            return []
        lines = await self._conn.execute(
            sa.select(postings)
            .where(
                postings.c.community_id == community_id,
                postings.c.entry_id.in_([row.id for row in rows]),
            )
            .order_by(postings.c.entry_id, postings.c.line)
        )
        by_entry: dict[uuid.UUID, list[Posting]] = {row.id: [] for row in rows}
        for line in lines:
            by_entry[line.entry_id].append(Posting(line.account_id, line.amount, line.commodity))
        return [_entry(row, tuple(by_entry[row.id])) for row in rows]

    async def complete_entry(
        self,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        status: EntryStatus,
        completed_at: datetime,
    ) -> None:
        await self._conn.execute(
            entries.update()
            .where(
                entries.c.community_id == community_id,
                entries.c.id == entry_id,
                entries.c.status == EntryStatus.PENDING.value,
            )
            .values(status=status.value, completed_at=completed_at)
        )

    async def reversal_of(self, community_id: uuid.UUID, entry_id: uuid.UUID) -> uuid.UUID | None:
        return (
            await self._conn.execute(
                sa.select(entries.c.id).where(
                    entries.c.community_id == community_id, entries.c.reverses == entry_id
                )
            )
        ).scalar_one_or_none()


def entry_row(entry: Entry) -> dict[str, Any]:
    """The ``entries`` row of an entry."""
    return {
        "community_id": entry.community_id,
        "id": entry.id,
        "status": entry.status.value,
        "effective_date": entry.effective_date,
        "description": entry.description,
        "kind": entry.kind,
        "metadata": entry.metadata,
        "created_at": entry.created_at,
        "completed_at": entry.completed_at,
        "reverses": entry.reverses,
    }


def with_postings_params(written: Sequence[Entry]) -> dict[str, list[Any]]:
    """The parameters of :data:`INSERT_WITH_POSTINGS` for ``written``."""
    params = unnest.columns(entries, "e_", [entry_row(entry) for entry in written])
    rows = [row for entry in written for row in posting_rows(entry)]
    return params | unnest.columns(postings, "p_", rows)


def posting_rows(entry: Entry) -> list[dict[str, Any]]:
    """The ``postings`` rows of an entry, numbered from 0."""
    return [
        {
            "community_id": entry.community_id,
            "entry_id": entry.id,
            "line": line,
            "account_id": posting.account_id,
            "commodity": posting.commodity,
            "amount": posting.amount,
            "effective_date": entry.effective_date,
        }
        for line, posting in enumerate(entry.postings)
    ]


def _entry(row: sa.Row[Any], entry_postings: tuple[Posting, ...]) -> Entry:
    return Entry(
        community_id=row.community_id,
        id=row.id,
        status=EntryStatus(row.status),
        effective_date=row.effective_date,
        description=row.description,
        kind=row.kind,
        metadata=row.metadata,
        created_at=row.created_at,
        completed_at=row.completed_at,
        reverses=row.reverses,
        postings=entry_postings,
    )
