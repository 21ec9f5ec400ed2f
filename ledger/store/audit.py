"""SQL of the audit trail: appending to a community's chain and reading it back."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.audit import chain as audit
from ledger.audit import outbox
from ledger.store import unnest
from ledger.store.tables import audit_heads, audit_log, events


class SqlAuditStore:
    """The audit trail's reads and writes over one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._dialect = connection.dialect.name

    async def append(
        self,
        community_id: uuid.UUID,
        events: Sequence[audit.AuditEvent],
        found: Sequence[outbox.NewEvent] = (),
    ) -> None:
        """Adds ``events`` in order after the chain's head, which stays locked until the
        transaction ends: appends of one community queue here, so their numbers never collide or
        leave a gap. Taken as the write's last step, the lock is held for little more than the
        commit. Several events are exactly what one append each would write (same numbers,
        hashes and event positions), but lock the head once and write every record in one more
        round trip on PostgreSQL: a batch holds the community's lock for two round trips instead
        of two per item.

        ``found``: events the write's own steps found (a balance monitor's crossing); they go
        with the first record, after its own events."""
        if not events:
            return
        records, rows = _chained(community_id, await self._head_locked(community_id), events, found)
        if len(records) == 1:
            await self._append_one(records[0], rows[0])
        else:
            await self._append_many(records, [row for each in rows for row in each])

    async def append_across(
        self,
        chained: Mapping[uuid.UUID, Sequence[audit.AuditEvent]],
        found: Mapping[uuid.UUID, Sequence[outbox.NewEvent]],
    ) -> None:
        """``append`` for several communities (PostgreSQL): their heads locked in community
        order by one statement, and every record, event and head's advance written by one more
        — the same records as one ``append`` each."""
        wanted = sorted(c for c, each in chained.items() if each)
        heads = await self._heads_locked(wanted)
        records: list[audit.AuditRecord] = []
        rows: list[dict[str, Any]] = []
        advanced: list[audit.AuditRecord] = []
        for community_id in wanted:
            mine = found.get(community_id, ())
            chain, chain_rows = _chained(
                community_id, heads[community_id], chained[community_id], mine
            )
            records += chain
            rows += [row for each in chain_rows for row in each]
            advanced.append(chain[-1])
        params = unnest.columns(audit_log, "a_", [_row(record) for record in records])
        params |= unnest.columns(events, "e_", rows)
        params |= {
            "h_community_ids": [r.community_id for r in advanced],
            "h_seqs": [r.seq for r in advanced],
            "h_hashes": [r.hash for r in advanced],
        }
        await self._conn.execute(_APPEND_ACROSS, params)

    async def lock_heads(self, community_ids: Sequence[uuid.UUID]) -> None:
        """Locks the heads of ``community_ids`` (each made if it has none yet) in community
        order."""
        wanted = sorted(set(community_ids))
        if self._dialect == "postgresql":
            await self._heads_locked(wanted)
            return
        for community_id in wanted:  # SQLite: one writer at a time; the heads are made
            await self._head_locked(community_id)

    async def _heads_locked(
        self, community_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, str]]:
        """Each community's head (made if it has none yet), locked in community order."""
        rows = await self._conn.execute(_LOCK_HEADS, {"community_ids": list(community_ids)})
        heads = {row.community_id: (row.seq, row.hash) for row in rows}
        for community_id in community_ids:  # a community's first record: rare here
            if community_id not in heads:
                heads[community_id] = await self._head_locked(community_id)
        return heads

    async def _head_locked(self, community_id: uuid.UUID) -> tuple[int, str]:
        head = await self._lock_head(community_id)
        if head is None:
            # The community's first record: make its head, then lock it like any other.
            insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
            await self._conn.execute(
                insert(audit_heads)
                .values(community_id=community_id, seq=0, hash=audit.GENESIS_HASH)
                .on_conflict_do_nothing()
            )
            head = await self._lock_head(community_id)
            assert head is not None
        return head

    async def _lock_head(self, community_id: uuid.UUID) -> tuple[int, str] | None:
        row = (await self._conn.execute(_LOCK_HEAD, {"h_community_id": community_id})).first()
        return None if row is None else (row.seq, row.hash)

    async def _append_one(self, record: audit.AuditRecord, rows: list[dict[str, Any]]) -> None:
        params = _advance_params(record)
        params |= {f"a_{k}": v for k, v in _row(record).items()}
        if self._dialect == "postgresql" and len(rows) <= 1:
            # One round trip: data-modifying CTEs run with the statement they are attached to.
            params |= {f"e0_{k}": v for k, v in rows[0].items()} if rows else {}
            await self._conn.execute(_append_all(len(rows)), params)
            return
        if self._dialect == "postgresql":
            await self._conn.execute(_append_all(0), params)
        else:
            await self._conn.execute(_ADVANCE, params)
            await self._conn.execute(_APPEND, params)
        if rows:
            # Several events: one executemany of a one-row insert, which stays in the compiled
            # cache (a multi-row VALUES has no cache key and would be compiled every time).
            await self._conn.execute(_EMIT_EACH, rows)

    async def _append_many(
        self, records: Sequence[audit.AuditRecord], rows: Sequence[dict[str, Any]]
    ) -> None:
        params = _advance_params(records[-1])
        records_rows = [_row(record) for record in records]
        if self._dialect == "postgresql":
            # One round trip and one execution: the records and their events travel as one array
            # per column and are unnested by a statement built once (``unnest``), which also
            # advances the head.
            params |= unnest.columns(audit_log, "a_", records_rows)
            params |= unnest.columns(events, "e_", rows)
            await self._conn.execute(_APPEND_MANY, params)
            return
        await self._conn.execute(_ADVANCE, params)
        await self._conn.execute(_APPEND_EACH, records_rows)
        if rows:
            await self._conn.execute(_EMIT_EACH, rows)

    async def list_audit(
        self, community_id: uuid.UUID, *, after_seq: int, limit: int
    ) -> Sequence[audit.AuditRecord]:
        rows = await self._conn.execute(
            sa.select(audit_log)
            .where(audit_log.c.community_id == community_id, audit_log.c.seq > after_seq)
            .order_by(audit_log.c.seq)
            .limit(limit)
        )
        return [_record(row._mapping) for row in rows]

    async def audit_head(self, community_id: uuid.UUID) -> tuple[int, str] | None:
        row = (
            await self._conn.execute(
                sa.select(audit_heads.c.seq, audit_heads.c.hash).where(
                    audit_heads.c.community_id == community_id
                )
            )
        ).first()
        return None if row is None else (row.seq, row.hash)


def _bound(table: sa.Table, prefix: str) -> dict[str, sa.BindParameter[Any]]:
    """Every column of ``table`` as a parameter ``<prefix><column>`` of the column's type (a
    multi-row VALUES types only its first row's parameters by itself)."""
    return {c.name: sa.bindparam(f"{prefix}{c.name}", type_=c.type) for c in table.columns}


# The statements are built once, with bound parameters: building and keying a fresh statement
# with literal values for every write cost ≈ 1 ms of Python per append (measured; see the
# events report), paid while the chain's head is locked.
_LOCK_HEAD: Final = (
    sa.select(audit_heads.c.seq, audit_heads.c.hash)
    .where(audit_heads.c.community_id == sa.bindparam("h_community_id"))
    .with_for_update()
)
_ADVANCE: Final = (
    sa.update(audit_heads)
    .where(audit_heads.c.community_id == sa.bindparam("h_community_id"))
    .values(seq=sa.bindparam("h_seq"), hash=sa.bindparam("h_hash"))
)
_APPEND: Final = sa.insert(audit_log).values(_bound(audit_log, "a_"))


_EMIT_ONE: Final = sa.insert(events).values(_bound(events, "e0_"))
_EMIT_EACH: Final = sa.insert(events)


@functools.cache
def _append_all(count: int) -> sa.Insert:
    """The chain's advance and the record's append, with its one event when ``count`` is 1."""
    statement = _APPEND.add_cte(_ADVANCE.cte("advance"))
    return statement.add_cte(_EMIT_ONE.cte("emit")) if count else statement


_APPEND_EACH: Final = sa.insert(audit_log)
# Several communities' heads, each looked up by its key and locked in community order.
_LOCK_HEADS: Final = (
    sa.text(
        "SELECT h.community_id, h.seq, h.hash"
        " FROM (SELECT DISTINCT unnest(CAST(:community_ids AS uuid[])) AS community_id"
        " ORDER BY 1) AS k"
        " CROSS JOIN LATERAL (SELECT community_id, seq, hash FROM audit_heads"
        " WHERE community_id = k.community_id FOR UPDATE) AS h"
    )
    .bindparams(
        sa.bindparam(
            "community_ids", type_=postgresql.ARRAY(audit_heads.c.community_id.type, dimensions=1)
        )
    )
    .columns(audit_heads.c.community_id, audit_heads.c.seq, audit_heads.c.hash)
)
_NEW_HEADS = (
    sa.func.unnest(
        sa.bindparam(
            "h_community_ids",
            type_=postgresql.ARRAY(audit_heads.c.community_id.type, dimensions=1),
        ),
        sa.bindparam("h_seqs", type_=postgresql.ARRAY(audit_heads.c.seq.type, dimensions=1)),
        sa.bindparam("h_hashes", type_=postgresql.ARRAY(audit_heads.c.hash.type, dimensions=1)),
    )
    .table_valued("community_id", "seq", "hash")
    .render_derived()
)
# Every record and event of several communities, and each head's advance, in one statement.
_APPEND_ACROSS: Final = (
    unnest.insert(audit_log, "a_")
    .add_cte(
        sa.update(audit_heads)
        .where(audit_heads.c.community_id == _NEW_HEADS.c.community_id)
        .values(seq=_NEW_HEADS.c.seq, hash=_NEW_HEADS.c.hash)
        .cte("advance")
    )
    .add_cte(unnest.insert(events, "e_").cte("emit"))
)
_APPEND_MANY: Final = (
    unnest.insert(audit_log, "a_")
    .add_cte(_ADVANCE.cte("advance"))
    .add_cte(unnest.insert(events, "e_").cte("emit"))
)


def _chained(
    community_id: uuid.UUID,
    head: tuple[int, str],
    chained: Sequence[audit.AuditEvent],
    found: Sequence[outbox.NewEvent],
) -> tuple[list[audit.AuditRecord], list[list[dict[str, Any]]]]:
    """The records of ``chained`` after ``head`` (seq and hash), and each one's event rows:
    ``found`` (a write's own steps' events) go with the first record, after its own."""
    seq, prev_hash = head
    records = []
    for event in chained:
        record = audit.chain(community_id, seq + 1, prev_hash, event)
        records.append(record)
        seq, prev_hash = record.seq, record.hash
    outboxed = [list(event.events) for event in chained]
    outboxed[0] += found
    return records, [_event_rows(r, f) for r, f in zip(records, outboxed, strict=True)]


def _advance_params(last: audit.AuditRecord) -> dict[str, Any]:
    """The head moved to ``last``."""
    return {"h_community_id": last.community_id, "h_seq": last.seq, "h_hash": last.hash}


def _row(record: audit.AuditRecord) -> dict[str, Any]:
    return {
        "community_id": record.community_id,
        "seq": record.seq,
        "recorded_at": record.recorded_at,
        "operation": record.operation,
        "actor_kind": record.actor_kind,
        "actor_id": record.actor_id,
        "member_id": record.member_id,
        "role": record.role,
        "request_id": record.request_id,
        "idempotency_key": record.idempotency_key,
        "result_ids": list(record.result_ids),
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def _event_rows(
    record: audit.AuditRecord, found: Sequence[outbox.NewEvent]
) -> list[dict[str, Any]]:
    return [
        {
            "community_id": record.community_id,
            "seq": record.seq,
            "n": n,
            "id": event.id,
            "type": event.type,
            "occurred_at": record.recorded_at,
            "resource_kind": event.resource_kind,
            "resource_id": event.resource_id,
            "data": event.data,
            "member_ids": [str(member_id) for member_id in event.member_ids],
            "account_ids": [str(account_id) for account_id in event.account_ids],
        }
        for n, event in enumerate(found)
    ]


def _record(row: Any) -> audit.AuditRecord:
    return audit.AuditRecord(
        community_id=row["community_id"],
        seq=row["seq"],
        recorded_at=row["recorded_at"],
        operation=row["operation"],
        actor_kind=row["actor_kind"],
        actor_id=row["actor_id"],
        member_id=row["member_id"],
        role=row["role"],
        request_id=row["request_id"],
        idempotency_key=row["idempotency_key"],
        result_ids=tuple(row["result_ids"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
