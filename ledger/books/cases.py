"""The state and plumbing the ledger's use cases share: the unit-of-work factory, the clock and
the one write envelope (``ledger.books.envelope``) every write with an idempotency key runs in."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ledger.audit import chain as audit
from ledger.books.envelope import WriteEnvelope
from ledger.books.ports import Repository, UnitOfWork, UnitOfWorkFactory
from ledger.kernel import errors
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.model import (
    Account,
    Community,
    Entry,
    IdempotencyKey,
)
from ledger.kernel.observer import LedgerEvents

T = TypeVar("T")


class UseCases:
    """Use cases over one database. ``uow`` opens units of work; ``clock`` tells UTC time;
    ``events`` hears of every write that took effect and every idempotent replay;
    ``replica_reads`` opens the units of the reads that may run on a streaming replica, never
    staler than the request (statements; the composition root passes the replica's factory when
    one is configured), else ``uow`` does."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock = utc_now,
        events: LedgerEvents | None = None,
        *,
        replica_reads: UnitOfWorkFactory | None = None,
    ) -> None:
        self._uow = uow
        self._replica_reads = replica_reads or uow
        self._clock = clock
        self._envelope = WriteEnvelope(uow, clock, events)

    async def _idempotent(
        self,
        community_id: uuid.UUID,
        operation: str,
        request: object,
        key: IdempotencyKey | None,
        *,
        work: Callable[[Repository], Awaitable[T]],
        result_type: type[T] = Entry,  # type: ignore[assignment]
    ) -> T:
        """Runs ``work`` on the repository in the one write envelope (``envelope.py``)."""

        async def in_unit(uow: UnitOfWork) -> T:
            return await work(uow.repo)

        return await self._envelope.write(
            community_id, operation, request, key, work=in_unit, result_type=result_type
        )

    def _audit_event(
        self, operation: str, key: IdempotencyKey | None, result: object
    ) -> audit.AuditEvent:
        return audit.event(operation, None if key is None else key.key, result, self._clock())


def community_found(community: Community | None, community_id: uuid.UUID) -> Community:
    if community is None:
        raise errors.CommunityNotFound(f"community {community_id} does not exist")
    return community


def account_found(account: Account | None, account_id: uuid.UUID) -> Account:
    if account is None:
        raise errors.AccountNotFound(f"account {account_id} does not exist")
    return account


def open_account_found(account: Account | None, account_id: uuid.UUID) -> Account:
    """The account, for something new to be set up on it (a schedule, a monitor, a fund):
    ``account_not_found``, or ``account_closed`` for a closed one."""
    found = account_found(account, account_id)
    if found.closed:
        raise errors.AccountClosed(f"account {account_id} is closed", account_id=account_id)
    return found
