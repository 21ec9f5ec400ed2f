"""Governance's units of work: reads over the governance store and the ledger's repository, and
writes in the ledger's one write envelope (``ledger.books.envelope``) — idempotency key, effect,
audit, one commit, the observer told.

A group decision uses the envelope's one addition: a use case may commit its effect and still
answer with an error — an approval that arrives after the deadline expires the request (that is
recorded) and is refused. Use cases return a :class:`Done` saying so.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from ledger.books.envelope import Done, WriteEnvelope
from ledger.books.ports import Repository, UnitOfWork, UnitOfWorkFactory
from ledger.governance.ports import GovernanceStore, StoreOf
from ledger.kernel.clock import Clock
from ledger.kernel.model import IdempotencyKey
from ledger.kernel.observer import LedgerEvents

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Tx:
    """One transaction's two views: the ledger's repository and the governance store."""

    repo: Repository
    store: GovernanceStore


class GovernanceTransactions:
    """Opens governance's transactions: ``uow`` the ledger's units of work, ``store_of`` the
    governance store on one, ``clock`` UTC time, ``events`` hears of every write."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        store_of: StoreOf,
        clock: Clock,
        events: LedgerEvents | None = None,
    ) -> None:
        self._uow = uow
        self._store_of = store_of
        self.clock = clock
        self._envelope = WriteEnvelope(uow, clock, events)

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
        """``work`` under ``key`` in the one write envelope; what it reports ``Done`` is
        recorded and audited, and its error, if any, raised after the commit."""

        async def in_unit(uow: UnitOfWork) -> Done[T]:
            return await work(Tx(uow.repo, self._store_of(uow)))

        return await self._envelope.decide(
            community_id, operation, request, key, work=in_unit, result_type=result_type
        )
