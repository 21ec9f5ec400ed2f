"""The bulk statements of a batch of entries (``ledger.books.batches``), on a unit of work's
connection: a handful of round trips per batch instead of several per item."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.books.ports import IN_FLIGHT, Claim, StoredOutcome
from ledger.kernel import errors
from ledger.kernel.model import Entry, IdempotencyKey
from ledger.store.entries import (
    INSERT_WITH_POSTINGS,
    entry_row,
    posting_rows,
    with_postings_params,
)
from ledger.store.idempotency import SqlIdempotency, in_flight_lock_id
from ledger.store.tables import entries, idempotency_keys, postings

# Built once: a statement object keeps its cache key, so executing it again costs no
# compilation and no cache-key walk.
_INSERT_ENTRIES = entries.insert()
_INSERT_POSTINGS = postings.insert()
_STORE_RESULT = (
    idempotency_keys.update()
    .where(
        idempotency_keys.c.community_id == sa.bindparam("b_community_id"),
        idempotency_keys.c.scope == sa.bindparam("b_scope"),
        idempotency_keys.c.key == sa.bindparam("b_key"),
    )
    .values(result=sa.bindparam("b_result"))
)
# PostgreSQL: a batch's entries and postings in one statement and one execution
# (``entries.INSERT_WITH_POSTINGS``: an executemany runs its statement once per row on the
# server, while the batch's accounts stay locked). The outcomes stay an executemany: an
# UPDATE … FROM unnest(…) was planned as a scan of every key of the scope, filtered (measured:
# 5× slower, and growing with the keys).
_RECORDED = sa.select(
    idempotency_keys.c.scope,
    idempotency_keys.c.key,
    idempotency_keys.c.fingerprint,
    idempotency_keys.c.result,
).where(
    idempotency_keys.c.community_id == sa.bindparam("community_id"),
    # Scopes and keys each as a set: the few pairs this also finds are dropped in Python.
    idempotency_keys.c.scope.in_(sa.bindparam("scopes", expanding=True)),
    idempotency_keys.c.key.in_(sa.bindparam("keys", expanding=True)),
)
_TRY_LOCKS = sa.text(
    "SELECT pg_try_advisory_xact_lock(lock_id) FROM unnest(:ids) WITH ORDINALITY AS t(lock_id, n)"
    " ORDER BY n"
).bindparams(sa.bindparam("ids", type_=postgresql.ARRAY(sa.BigInteger)))


def _claim_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(idempotency_keys)
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.scope, idempotency_keys.c.key)
    )


_CLAIM = {name: _claim_statement(name) for name in ("postgresql", "sqlite")}


class SqlBatchStore:
    """The bulk statements of the entry write over one connection (``SqlRepository`` answers
    with them)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._dialect = connection.dialect.name
        self._idempotency = SqlIdempotency(connection)

    async def claim_keys(
        self,
        community_id: uuid.UUID,
        claims: Sequence[tuple[IdempotencyKey, str]],
        now: datetime,
    ) -> list[Claim]:
        if not claims:
            return []
        if len(claims) == 1:  # a single write: one round trip (PostgreSQL)
            [(key, fingerprint)] = claims
            return [await self._idempotency.claim(community_id, key, fingerprint, now)]
        held: set[IdempotencyKey] = set()
        if self._dialect == "postgresql":
            # The same per-key advisory lock a single key's claim takes: a key in flight
            # elsewhere is refused at once, never waited for.
            ids = [in_flight_lock_id(community_id, key.scope, key.key) for key, _ in claims]
            got = (await self._conn.execute(_TRY_LOCKS, {"ids": ids})).scalars().all()
            held = {key for (key, _), ok in zip(claims, got, strict=True) if not ok}
        rows = [
            {
                "community_id": community_id,
                "scope": key.scope,
                "key": key.key,
                "fingerprint": fingerprint,
                "created_at": now,
            }
            for key, fingerprint in claims
            if key not in held
        ]
        new: set[IdempotencyKey] = set()
        if rows:
            try:
                result = await self._conn.execute(_CLAIM[self._dialect], rows)
            except IntegrityError:  # the one foreign key: the community
                raise errors.CommunityNotFound(f"community {community_id} does not exist") from None
            new = {IdempotencyKey(row.scope, row.key) for row in result}
        # A key held elsewhere may have an outcome committed under it already (its holder is a
        # retry): that outcome answers, as it does a single write's claim.
        taken = [key for key, _ in claims if key not in new]
        recorded = await self._recorded(community_id, taken) if taken else {}
        found: dict[IdempotencyKey, Claim] = dict.fromkeys(held, IN_FLIGHT)
        found |= recorded
        return [found.get(key) for key, _ in claims]

    async def _recorded(
        self, community_id: uuid.UUID, keys: Sequence[IdempotencyKey]
    ) -> dict[IdempotencyKey, Claim]:
        """The outcomes recorded under ``keys``, of those that have one."""
        rows = await self._conn.execute(
            _RECORDED,
            {
                "community_id": community_id,
                "scopes": sorted({key.scope for key in keys}),
                "keys": sorted({key.key for key in keys}),
            },
        )
        wanted = set(keys)
        found: dict[IdempotencyKey, Claim] = {}
        for row in rows:
            key = IdempotencyKey(row.scope, row.key)
            if key in wanted:
                found[key] = StoredOutcome(row.fingerprint, row.result)
        return found

    async def insert_entries(self, written: Sequence[Entry]) -> None:
        if not written:
            return
        if self._dialect == "postgresql":
            await self._conn.execute(INSERT_WITH_POSTINGS, with_postings_params(written))
            return
        await self._conn.execute(_INSERT_ENTRIES, [entry_row(entry) for entry in written])
        await self._conn.execute(
            _INSERT_POSTINGS, [row for entry in written for row in posting_rows(entry)]
        )

    async def store_results(
        self, community_id: uuid.UUID, results: Sequence[tuple[IdempotencyKey, bytes]]
    ) -> None:
        if not results:
            return
        await self._conn.execute(
            _STORE_RESULT,
            [
                {
                    "b_community_id": community_id,
                    "b_scope": key.scope,
                    "b_key": key.key,
                    "b_result": data,
                }
                for key, data in results
            ],
        )
