"""SQL of idempotency keys: claiming a key and recording the outcome under it.

A key's row is written once, with its outcome. Claiming a key only looks (and, on PostgreSQL,
takes the key's in-flight lock); the claim is kept by the unit of work, and the row — fingerprint,
outcome and time of the claim — is inserted when the outcome is stored, in the same transaction
as the effect. Inserting the claim first and updating it with the outcome wrote the key twice:
two heap rows (the update rarely fitted the claim's page, so it was no HOT update) and two index
entries per key, about 1.4 kB of WAL per keyed transfer against about 0.7 kB now
(docs/performance.md, "The idempotency key written once").

Why nothing is lost by claiming without a row:

- PostgreSQL: every claim takes the key's transaction-scoped advisory lock first, so two
  transactions never work under one key at once; the second is refused (``IN_FLIGHT``). A lock
  is released only after its transaction's commit is visible, so a claim that reads after taking
  the lock sees an outcome committed under the key. The one window — a single claim's read is one
  statement with its lock, and that statement's snapshot may predate the commit of a holder that
  released the lock a moment later — is closed at the insert: a row already there is refused as
  the key still in flight (409, retry), which is what that request would have got an instant
  earlier, and its transaction rolls back. Its retry replays.
- SQLite: writers take turns (``BEGIN IMMEDIATE``), so a claim reads every committed outcome.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.books.ports import IN_FLIGHT, Claim, InFlight, StoredOutcome
from ledger.kernel import errors
from ledger.kernel.model import IdempotencyKey
from ledger.store.tables import idempotency_keys

# Built once, with bind parameters: a statement object keeps its cache key (see
# ``ledger.store.accounts``).
_KEY_MATCHES = (
    idempotency_keys.c.community_id == sa.bindparam("b_community_id"),
    idempotency_keys.c.scope == sa.bindparam("b_scope"),
    idempotency_keys.c.key == sa.bindparam("b_key"),
)
_RECORDED_OUTCOME = sa.select(idempotency_keys.c.fingerprint, idempotency_keys.c.result).where(
    *_KEY_MATCHES
)
# PostgreSQL: the key's in-flight lock and the outcome recorded under it in one round trip (the
# subquery calls a volatile function, so it is never flattened away: the lock is always tried).
_LOCK_AND_READ = sa.text(
    "SELECT l.got, k.fingerprint, k.result"
    " FROM (SELECT pg_try_advisory_xact_lock(:lock_id) AS got) AS l"
    " LEFT JOIN idempotency_keys AS k"
    " ON k.community_id = :b_community_id AND k.scope = :b_scope AND k.key = :b_key"
).bindparams(
    sa.bindparam("lock_id", type_=sa.BigInteger),
    sa.bindparam("b_community_id", type_=idempotency_keys.c.community_id.type),
    sa.bindparam("b_scope", type_=idempotency_keys.c.scope.type),
    sa.bindparam("b_key", type_=idempotency_keys.c.key.type),
)
_TRY_LOCKS = sa.text(
    "SELECT pg_try_advisory_xact_lock(lock_id) FROM unnest(:ids) WITH ORDINALITY AS t(lock_id, n)"
    " ORDER BY n"
).bindparams(sa.bindparam("ids", type_=postgresql.ARRAY(sa.BigInteger)))
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
# PostgreSQL: the same, one primary-key lookup per key, for one community or several (a group
# across communities names each key's community). With ``scope IN (…) AND key IN (…)`` a plan
# cached on a nearly empty table may read every key of the scope and filter; a lookup that names
# the whole key leaves no other plan (as ``ledger.store.accounts`` locks accounts). The arrays
# are ``varchar[]``, the columns' type (as ``text[]`` the index could not be used), and ``LIMIT
# 1`` (a key is unique) keeps the lateral lookup from being flattened into a hash join over the
# community's every key (seen: 212 buffers for 17 keys against 58).
_RECORDED_BY_KEY = (
    sa.text(
        "SELECT k.community_id, k.scope, k.key, k.fingerprint, k.result"
        " FROM unnest(CAST(:community_ids AS uuid[]), CAST(:scopes AS varchar[]),"
        " CAST(:keys AS varchar[])) AS u(community_id, scope, key)"
        " CROSS JOIN LATERAL (SELECT community_id, scope, key, fingerprint, result"
        " FROM idempotency_keys WHERE community_id = u.community_id AND scope = u.scope"
        " AND key = u.key LIMIT 1) AS k"
    )
    .bindparams(
        sa.bindparam(
            "community_ids",
            type_=postgresql.ARRAY(idempotency_keys.c.community_id.type, dimensions=1),
        ),
        sa.bindparam("scopes", type_=postgresql.ARRAY(sa.String, dimensions=1)),
        sa.bindparam("keys", type_=postgresql.ARRAY(sa.String, dimensions=1)),
    )
    .columns(
        idempotency_keys.c.community_id,
        idempotency_keys.c.scope,
        idempotency_keys.c.key,
        idempotency_keys.c.fingerprint,
        idempotency_keys.c.result,
    )
)
# A row already under the key is not overwritten: it answers nothing, and the store refuses.
_WRITE = {
    name: insert(idempotency_keys)
    .on_conflict_do_nothing()
    .returning(idempotency_keys.c.scope, idempotency_keys.c.key)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


@dataclass
class _Claimed:
    """A key this unit of work claimed: what its row will hold; ``result`` once written."""

    fingerprint: str
    created_at: datetime
    result: bytes | None = None


class SqlIdempotency:
    """Idempotency keys over one connection; one per unit of work (it keeps the work's claims)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._dialect = connection.dialect.name
        self._claimed: dict[tuple[uuid.UUID, IdempotencyKey], _Claimed] = {}

    async def claim_idempotency_key(
        self,
        community_id: uuid.UUID,
        key: IdempotencyKey,
        fingerprint: str,
        created_at: datetime,
    ) -> StoredOutcome | None:
        claim = await self.claim(community_id, key, fingerprint, created_at)
        if isinstance(claim, InFlight):
            raise _in_flight()
        return claim

    async def claim(
        self,
        community_id: uuid.UUID,
        key: IdempotencyKey,
        fingerprint: str,
        created_at: datetime,
    ) -> Claim:
        """Claims one key in one round trip: None, or the outcome recorded under it, or
        ``IN_FLIGHT`` when another transaction holds it with nothing recorded yet."""
        mine = self._claimed.get((community_id, key))
        if mine is not None:  # claimed before in this unit of work: what its row holds so far
            return StoredOutcome(mine.fingerprint, mine.result)
        params = _key_params(community_id, key)
        row: sa.Row[Any, Any] | None
        if self._dialect == "postgresql":
            # A transaction-scoped advisory lock per key: a second request under a key whose
            # first is still running fails at once instead of waiting for it.
            params["lock_id"] = in_flight_lock_id(community_id, key.scope, key.key)
            row = (await self._conn.execute(_LOCK_AND_READ, params)).one()
            free = bool(row.got)
        else:
            row = (await self._conn.execute(_RECORDED_OUTCOME, params)).first()
            free = True
        if row is not None and row.fingerprint is not None:
            return StoredOutcome(row.fingerprint, row.result)
        if not free:  # held elsewhere with nothing committed under it: still running
            return IN_FLIGHT
        self._claimed[(community_id, key)] = _Claimed(fingerprint, created_at)
        return None

    async def claim_across(
        self,
        claims: Sequence[tuple[uuid.UUID, IdempotencyKey, str]],
        now: datetime,
    ) -> list[Claim]:
        """``claim`` for each of several distinct ``(community, key)``, of one community or
        several, in two round trips at most (one for a single key, on PostgreSQL)."""
        if len(claims) == 1:  # a single write: one round trip (PostgreSQL)
            [(community_id, key, fingerprint)] = claims
            return [await self.claim(community_id, key, fingerprint, now)]
        found: dict[tuple[uuid.UUID, IdempotencyKey], Claim] = {}
        for community_id, key, _ in claims:
            mine = self._claimed.get((community_id, key))
            if mine is not None:
                found[(community_id, key)] = StoredOutcome(mine.fingerprint, mine.result)
        asked = [(c, key, fingerprint) for c, key, fingerprint in claims if (c, key) not in found]
        held: set[tuple[uuid.UUID, IdempotencyKey]] = set()
        if self._dialect == "postgresql" and asked:
            # The same per-key advisory lock a single key's claim takes: a key in flight
            # elsewhere is refused at once, never waited for. Taken before the read below, which
            # then sees any outcome committed under a key whose lock was just released.
            ids = [in_flight_lock_id(c, key.scope, key.key) for c, key, _ in asked]
            got = (await self._conn.execute(_TRY_LOCKS, {"ids": ids})).scalars().all()
            held = {(c, key) for (c, key, _), ok in zip(asked, got, strict=True) if not ok}
        # A key held elsewhere may have an outcome committed under it already (its holder is a
        # retry): that outcome answers, as it does a single write's claim.
        recorded = await self._recorded([(c, key) for c, key, _ in asked]) if asked else {}
        for community_id, key, fingerprint in asked:
            if (community_id, key) in recorded:
                found[(community_id, key)] = recorded[(community_id, key)]
            elif (community_id, key) in held:
                found[(community_id, key)] = IN_FLIGHT
            else:
                self._claimed[(community_id, key)] = _Claimed(fingerprint, now)
        return [found.get((c, key)) for c, key, _ in claims]

    async def _recorded(
        self, keys: Sequence[tuple[uuid.UUID, IdempotencyKey]]
    ) -> dict[tuple[uuid.UUID, IdempotencyKey], Claim]:
        """The outcomes recorded under ``keys`` (each with its community), of those that have
        one."""
        if self._dialect == "postgresql":
            rows = await self._conn.execute(
                _RECORDED_BY_KEY,
                {
                    "community_ids": [community_id for community_id, _ in keys],
                    "scopes": [key.scope for _, key in keys],
                    "keys": [key.key for _, key in keys],
                },
            )
            return {
                (row.community_id, IdempotencyKey(row.scope, row.key)): StoredOutcome(
                    row.fingerprint, row.result
                )
                for row in rows
            }
        wanted = set(keys)
        found: dict[tuple[uuid.UUID, IdempotencyKey], Claim] = {}
        for community_id in sorted({community_id for community_id, _ in keys}):
            rows = await self._conn.execute(
                _RECORDED,
                {
                    "community_id": community_id,
                    "scopes": sorted({key.scope for c, key in keys if c == community_id}),
                    "keys": sorted({key.key for c, key in keys if c == community_id}),
                },
            )
            for row in rows:
                asked = (community_id, IdempotencyKey(row.scope, row.key))
                if asked in wanted:
                    found[asked] = StoredOutcome(row.fingerprint, row.result)
        return found

    async def store_idempotency_result(
        self, community_id: uuid.UUID, key: IdempotencyKey, result: bytes
    ) -> None:
        await self.store_across([(community_id, key, result)])

    async def store_across(
        self, results: Sequence[tuple[uuid.UUID, IdempotencyKey, bytes]]
    ) -> None:
        """Writes each ``(community, key)``'s row with its outcome, in one statement: keys this
        unit of work claimed, once each, of one community or several."""
        if not results:
            return
        rows = []
        for community_id, key, result in results:
            mine = self._claimed[(community_id, key)]  # a KeyError: a key never claimed here
            assert mine.result is None, "an outcome is stored once per key"
            mine.result = result
            rows.append(
                {
                    "community_id": community_id,
                    "scope": key.scope,
                    "key": key.key,
                    "fingerprint": mine.fingerprint,
                    "result": result,
                    "created_at": mine.created_at,
                }
            )
        try:
            written = (await self._conn.execute(_WRITE[self._dialect], rows)).all()
        except IntegrityError:  # the one foreign key: the community
            communities = ", ".join(sorted({str(c) for c, _, _ in results}))
            raise errors.CommunityNotFound(f"community {communities} does not exist") from None
        if len(written) < len(rows):
            # Committed under the key by a transaction that held it when this one's claim read
            # (PostgreSQL; see the module): this request overlapped it. Rolled back; a retry
            # replays.
            raise _in_flight()


def _in_flight() -> errors.IdempotencyInFlight:
    return errors.IdempotencyInFlight(
        "a request with this idempotency key is still in progress; retry shortly"
    )


def in_flight_lock_id(community_id: uuid.UUID, scope: str, key: str) -> int:
    """The advisory lock of an idempotency key while a transaction works under it."""
    digest = hashlib.sha256(f"{community_id}\x00{scope}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _key_params(community_id: uuid.UUID, key: IdempotencyKey) -> dict[str, Any]:
    return {"b_community_id": community_id, "b_scope": key.scope, "b_key": key.key}
