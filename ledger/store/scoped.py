"""The one way a feature's store reaches the database: ``SqlXStore.of(uow)``, a store on the
unit of work's own connection and transaction (the books' repository is ``uow.repo``).

The domain's use cases hold only the kernel's ``UnitOfWork`` port and a ``store_of`` callable;
the composition root passes ``SqlXStore.of`` as that callable, so the connection stays here."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel.uow import UnitOfWork
from ledger.store.uow import SqlUnitOfWork


def connection_of(uow: UnitOfWork[object]) -> AsyncConnection:
    """The connection of a unit of work opened by ``SqlUnitOfWorkFactory``: the one place the
    store narrows the domain's ``UnitOfWork`` port (whatever repository it states) to its own
    class. The report queries, which read the store's tables, are handed this function too."""
    assert isinstance(uow, SqlUnitOfWork), "an SQL store needs the SQL unit of work"
    return uow.connection


class ScopedStore:
    """A store that lives as long as one unit of work and runs on its transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    @classmethod
    def of(cls, uow: UnitOfWork[object]) -> Self:
        """The store on ``uow``'s transaction: what a feature's use cases are given as their
        ``store_of``."""
        return cls(connection_of(uow))
