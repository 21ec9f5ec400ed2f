"""SQL of idempotency keys: claiming a key and recording the outcome under it."""

from __future__ import annotations

import hashlib
import uuid
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
_CLAIM_KEY = {
    name: insert(idempotency_keys).on_conflict_do_nothing().returning(idempotency_keys.c.key)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_RECORDED_OUTCOME = sa.select(idempotency_keys.c.fingerprint, idempotency_keys.c.result).where(
    *_KEY_MATCHES
)
_STORE_RESULT = (
    idempotency_keys.update().where(*_KEY_MATCHES).values(result=sa.bindparam("b_result"))
)


def _lock_and_claim() -> Any:
    """PostgreSQL: take the key's in-flight lock and claim the key in one round trip. The row is
    inserted only when the lock was free; the read that follows a miss tells which it was."""
    got = sa.func.pg_try_advisory_xact_lock(sa.bindparam("lock_id", type_=sa.BigInteger))
    lock = sa.select(got.label("got")).cte("in_flight")
    columns = ("community_id", "scope", "key", "fingerprint", "created_at")
    row = sa.select(
        *(sa.bindparam(name, type_=idempotency_keys.c[name].type) for name in columns)
    ).where(lock.c.got)
    return (
        postgresql.insert(idempotency_keys)
        .from_select(columns, row)
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    )


_LOCK_AND_CLAIM_KEY = _lock_and_claim()


class SqlIdempotency:
    """Idempotency keys over one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._dialect = connection.dialect.name

    async def claim_idempotency_key(
        self,
        community_id: uuid.UUID,
        key: IdempotencyKey,
        fingerprint: str,
        created_at: datetime,
    ) -> StoredOutcome | None:
        claim = await self.claim(community_id, key, fingerprint, created_at)
        if isinstance(claim, InFlight):
            raise errors.IdempotencyInFlight(
                "a request with this idempotency key is still in progress; retry shortly"
            )
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
        row = {
            "community_id": community_id,
            "scope": key.scope,
            "key": key.key,
            "fingerprint": fingerprint,
            "created_at": created_at,
        }
        if self._dialect == "postgresql":
            # A transaction-scoped advisory lock per key: a second request under a key whose
            # first is still running fails at once instead of waiting for it (SQLite needs none:
            # its writers never overlap). The claiming statement takes it.
            row["lock_id"] = in_flight_lock_id(community_id, key.scope, key.key)
            statement = _LOCK_AND_CLAIM_KEY
        else:
            statement = _CLAIM_KEY[self._dialect]
        try:
            claimed = (await self._conn.execute(statement, row)).first()
        except IntegrityError:  # the one foreign key: the community
            raise errors.CommunityNotFound(f"community {community_id} does not exist") from None
        if claimed is not None:
            return None
        found = (
            await self._conn.execute(_RECORDED_OUTCOME, _key_params(community_id, key))
        ).first()
        if found is None:
            # Nothing inserted and nothing committed under the key: its lock was held, so the
            # first request is still running (a key already committed is replayed).
            return IN_FLIGHT
        return StoredOutcome(found.fingerprint, found.result)

    async def store_idempotency_result(
        self, community_id: uuid.UUID, key: IdempotencyKey, result: bytes
    ) -> None:
        await self._conn.execute(
            _STORE_RESULT, {**_key_params(community_id, key), "b_result": result}
        )


def in_flight_lock_id(community_id: uuid.UUID, scope: str, key: str) -> int:
    """The advisory lock of an idempotency key while a transaction works under it."""
    digest = hashlib.sha256(f"{community_id}\x00{scope}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _key_params(community_id: uuid.UUID, key: IdempotencyKey) -> dict[str, Any]:
    return {"b_community_id": community_id, "b_scope": key.scope, "b_key": key.key}
