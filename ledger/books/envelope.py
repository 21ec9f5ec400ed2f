"""The one idempotent write: claim the key → do the work → record the outcome → audit → commit →
tell the observer. Every write use case with an idempotency key runs in it: the ledger's own
(``Ledger``; its entry write is a batch of one, ``ledger.books.batches``, which keeps these
guarantees with the bulk statements of a batch), the economy's (``ledger.economy.ports.Books``)
and governance's (``ledger.governance.transactions``).

Guarantees (tests/ledger/test_envelope.py, tests/ledger/test_service.py,
tests/ledger/test_audit.py, tests/ledger/test_governance.py, tests/ledger/test_funds.py):
- one write unit of work, committed once, here;
- under a key, a first request records its outcome — its result, or the ``LedgerError`` it met —
  in the same transaction as its effect; a retry with the same request gets that outcome back
  with no second effect (``replayed``), a different request under the key is
  ``idempotency_conflict``;
- a rejection without a key rolls everything back;
- every operation that took effect gets one audit record, in the same transaction;
- the observer hears of a write only after its commit, so it never counts one rolled back.

A use case that must commit its effect and still answer with an error (a governance approval
arriving after the deadline expires the request, and is refused) returns a :class:`Done` through
:meth:`WriteEnvelope.decide`; :meth:`WriteEnvelope.write` is that with one operation, no error.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ledger.audit import chain as audit
from ledger.books import idempotency
from ledger.books.ports import Repository, StoredOutcome, UnitOfWork, UnitOfWorkFactory
from ledger.books.writes import in_community_units
from ledger.kernel import errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import IdempotencyKey
from ledger.kernel.observer import LedgerEvents, NoEvents
from ledger.kernel.uow import run_write

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


class WriteEnvelope:
    """Runs writes in units of work from ``units``; ``clock`` stamps keys and audit records;
    ``events`` hears of every write that took effect and every replay."""

    def __init__(
        self, units: UnitOfWorkFactory, clock: Clock, events: LedgerEvents | None = None
    ) -> None:
        self._units = units
        self._clock = clock
        self._events: LedgerEvents = events or NoEvents()

    async def write(
        self,
        community_id: uuid.UUID,
        operation: str,
        request: object,
        key: IdempotencyKey | None,
        *,
        work: Callable[[UnitOfWork], Awaitable[T]],
        result_type: type[T],
    ) -> T:
        """``work`` under ``key`` (see the module); its result is audited as ``operation``."""

        async def done(uow: UnitOfWork) -> Done[T]:
            return Done(await work(uow), operation)

        return await self.decide(
            community_id, operation, request, key, work=done, result_type=result_type
        )

    async def decide(
        self,
        community_id: uuid.UUID,
        operation: str,
        request: object,
        key: IdempotencyKey | None,
        *,
        work: Callable[[UnitOfWork], Awaitable[Done[T]]],
        result_type: type[T],
    ) -> T:
        """``work`` under ``key``, which tells what took effect and may answer an error after
        its effect is committed (see the module). ``request`` is fingerprinted as
        ``operation``'s."""
        fingerprint = idempotency.fingerprint(operation, request)

        async def transaction(uow: UnitOfWork) -> tuple[Done[T] | StoredOutcome, tuple[str, ...]]:
            repo = uow.repo
            if key is not None:
                stored = await repo.claim_idempotency_key(
                    community_id, key, fingerprint, self._clock()
                )
                if stored is not None:
                    return stored, ()
            try:
                done = await work(uow)
            except errors.LedgerError as exc:
                worded = await in_community_units(repo, community_id, exc)
                if key is not None:
                    await repo.store_idempotency_result(
                        community_id, key, idempotency.encode_rejection(worded)
                    )
                    await uow.commit()
                if worded is exc:
                    raise
                raise worded from None
            operations = await self._record(repo, community_id, key, done)
            await uow.commit()
            return done, operations

        # The whole transaction in one piece: on SQLite one hand-off to the database's thread.
        done, operations = await run_write(self._units, transaction)
        if isinstance(done, StoredOutcome):  # the outcome recorded under the key
            if done.fingerprint == fingerprint:
                self._events.replayed(operation)
            return idempotency.replay(done, fingerprint, result_type)
        for operation_done in operations:
            self._events.written(operation_done, done.result)
        if done.error is not None:
            raise done.error
        return done.result

    async def _record(
        self,
        repo: Repository,
        community_id: uuid.UUID,
        key: IdempotencyKey | None,
        done: Done[T],
    ) -> tuple[str, ...]:
        """Stores the outcome under ``key`` and audits each operation that took effect."""
        if key is not None:
            outcome = (
                idempotency.encode_result(done.result)
                if done.error is None
                else idempotency.encode_rejection(done.error)
            )
            await repo.store_idempotency_result(community_id, key, outcome)
        operations = () if done.operation is None else (done.operation, *done.also)
        for operation_done in operations:
            event = audit.event(
                operation_done, None if key is None else key.key, done.result, self._clock()
            )
            await repo.append_audit(community_id, event)
        return operations
