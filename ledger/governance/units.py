"""Runs a governance use case in one unit of work: idempotency key, effect, audit, one commit.

Like ``Ledger._idempotent``, with one addition a group decision needs: a use case may commit its
effect and still answer with an error — an approval that arrives after the deadline expires the
request (that is recorded) and is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from ledger.audit import chain as audit
from ledger.books import idempotency
from ledger.books.ports import Repository, UnitOfWorkFactory
from ledger.governance.ports import GovernanceStore, StoreOf
from ledger.kernel import errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import IdempotencyKey

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """What a use case did: its result; the audit operation to record (None: nothing took
    effect, e.g. a duplicate consent); an error to answer after committing the effect."""

    result: T
    operation: str | None
    error: errors.LedgerError | None = None
    also: tuple[str, ...] = ()
    """Further operations the same write completed (a consent that adopts the budget)."""


@dataclass(frozen=True, slots=True)
class Tx:
    repo: Repository
    store: GovernanceStore


class Units:
    def __init__(self, uow: UnitOfWorkFactory, store_of: StoreOf, clock: Clock) -> None:
        self._uow = uow
        self._store_of = store_of
        self.clock = clock

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        async with self._uow(write=False) as uow:
            yield Tx(uow.repo, self._store_of(uow))

    async def write(
        self,
        community_id: uuid.UUID,
        operation: str,
        request: object,
        key: IdempotencyKey | None,
        *,
        work: Callable[[Tx], Awaitable[Done[T]]],
        result_type: type[T],
    ) -> T:
        fingerprint = idempotency.fingerprint(operation, request)
        async with self._uow(write=True) as uow:
            tx = Tx(uow.repo, self._store_of(uow))
            if key is not None:
                stored = await tx.repo.claim_idempotency_key(
                    community_id, key, fingerprint, self.clock()
                )
                if stored is not None:
                    return idempotency.replay(stored, fingerprint, result_type)
            try:
                done = await work(tx)
            except errors.LedgerError as exc:
                if key is None:
                    raise
                await tx.repo.store_idempotency_result(
                    community_id, key, idempotency.encode_rejection(exc)
                )
                await uow.commit()
                raise
            if key is not None:
                outcome = (
                    idempotency.encode_result(done.result)
                    if done.error is None
                    else idempotency.encode_rejection(done.error)
                )
                await tx.repo.store_idempotency_result(community_id, key, outcome)
            operations = () if done.operation is None else (done.operation, *done.also)
            for operation_done in operations:
                event = audit.event(
                    operation_done, None if key is None else key.key, done.result, self.clock()
                )
                await tx.repo.append_audit(community_id, event)
            await uow.commit()
        if done.error is not None:
            raise done.error
        return done.result
