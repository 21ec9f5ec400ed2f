"""The bulk statements of a batch of entries (``ledger.books.batches``), on a unit of work's
connection: a handful of round trips per batch instead of several per item."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

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
# PostgreSQL: several keys claimed in one round trip, as ``idempotency._LOCK_AND_CLAIM_KEY``
# claims one. Each key's in-flight advisory lock is tried (never waited for) and only the keys
# whose lock was free are inserted; each key answers whether its lock was free (``got``) and
# whether its row was new (``new``), in the order given. ``k`` is referenced twice, so it is
# computed once: each lock is tried once.
_LOCK_AND_CLAIM_KEYS = (
    sa.text(
        "WITH k AS (SELECT t.scope, t.key, t.fingerprint, t.n,"
        " pg_try_advisory_xact_lock(t.lock_id) AS got"
        " FROM unnest(:scopes, :keys, :fingerprints, :lock_ids)"
        " WITH ORDINALITY AS t(scope, key, fingerprint, lock_id, n)),"
        " claimed AS (INSERT INTO idempotency_keys"
        " (community_id, scope, key, fingerprint, created_at)"
        " SELECT :community_id, k.scope, k.key, k.fingerprint, :created_at"
        " FROM k WHERE k.got ORDER BY k.n"
        " ON CONFLICT DO NOTHING RETURNING scope, key)"
        " SELECT k.got, c.key IS NOT NULL AS new"
        " FROM k LEFT JOIN claimed AS c ON c.scope = k.scope AND c.key = k.key ORDER BY k.n"
    )
    .bindparams(
        sa.bindparam("community_id", type_=idempotency_keys.c.community_id.type),
        sa.bindparam("created_at", type_=idempotency_keys.c.created_at.type),
        sa.bindparam("scopes", type_=postgresql.ARRAY(sa.String, dimensions=1)),
        sa.bindparam("keys", type_=postgresql.ARRAY(sa.String, dimensions=1)),
        sa.bindparam("fingerprints", type_=postgresql.ARRAY(sa.String, dimensions=1)),
        sa.bindparam("lock_ids", type_=postgresql.ARRAY(sa.BigInteger, dimensions=1)),
    )
    .columns(got=sa.Boolean, new=sa.Boolean)
)


# SQLite: several keys claimed by one executemany.
_CLAIM = (
    sqlite.insert(idempotency_keys)
    .on_conflict_do_nothing()
    .returning(idempotency_keys.c.scope, idempotency_keys.c.key)
)


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
        try:
            if self._dialect == "postgresql":
                held, new = await self._lock_and_claim(community_id, claims, now)
            else:
                held, new = set(), await self._claim(community_id, claims, now)
        except IntegrityError:  # the one foreign key: the community
            raise errors.CommunityNotFound(f"community {community_id} does not exist") from None
        # A key held elsewhere may have an outcome committed under it already (its holder is a
        # retry): that outcome answers, as it does a single write's claim.
        taken = [key for key, _ in claims if key not in new]
        recorded = await self._recorded(community_id, taken) if taken else {}
        found: dict[IdempotencyKey, Claim] = dict.fromkeys(held, IN_FLIGHT)
        found |= recorded
        return [found.get(key) for key, _ in claims]

    async def _lock_and_claim(
        self,
        community_id: uuid.UUID,
        claims: Sequence[tuple[IdempotencyKey, str]],
        now: datetime,
    ) -> tuple[set[IdempotencyKey], set[IdempotencyKey]]:
        """PostgreSQL, one round trip: the keys in flight elsewhere (their advisory lock, the
        one a single key's claim takes, was held: refused at once, never waited for), and the
        keys claimed here."""
        rows = await self._conn.execute(
            _LOCK_AND_CLAIM_KEYS,
            {
                "community_id": community_id,
                "created_at": now,
                "scopes": [key.scope for key, _ in claims],
                "keys": [key.key for key, _ in claims],
                "fingerprints": [fingerprint for _, fingerprint in claims],
                "lock_ids": [in_flight_lock_id(community_id, k.scope, k.key) for k, _ in claims],
            },
        )
        held: set[IdempotencyKey] = set()
        new: set[IdempotencyKey] = set()
        for (key, _), row in zip(claims, rows, strict=True):
            if not row.got:
                held.add(key)
            elif row.new:
                new.add(key)
        return held, new

    async def _claim(
        self,
        community_id: uuid.UUID,
        claims: Sequence[tuple[IdempotencyKey, str]],
        now: datetime,
    ) -> set[IdempotencyKey]:
        """SQLite: the keys claimed here (its writers never overlap, so no key is in flight)."""
        rows = [
            {
                "community_id": community_id,
                "scope": key.scope,
                "key": key.key,
                "fingerprint": fingerprint,
                "created_at": now,
            }
            for key, fingerprint in claims
        ]
        result = await self._conn.execute(_CLAIM, rows)
        return {IdempotencyKey(row.scope, row.key) for row in result}

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
