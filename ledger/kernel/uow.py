"""The unit-of-work port: one database transaction, rolled back unless the use case commits.

Generic in what it gives to read and write (its repository, ``repo``), so that each concept
states only the part it needs — the audit trail an ``AuditRepository``, the books the whole
``Repository`` — while one implementation (``ledger.store.uow``) serves them all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Protocol, Self, TypeVar, runtime_checkable

Repo_co = TypeVar("Repo_co", covariant=True)
Repo = TypeVar("Repo")
T = TypeVar("T")


class UnitOfWork(Protocol[Repo_co]):
    """One database transaction. Leaving the block without ``commit()`` rolls it back."""

    @property
    def repo(self) -> Repo_co: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol[Repo_co]):
    def __call__(self, *, write: bool, snapshot: bool = True) -> UnitOfWork[Repo_co]:
        """A unit of work; ``write=True`` takes the database's write lock up front where the
        engine needs that (SQLite) so that concurrent writers queue instead of failing.

        A read (``write=False``) runs in one snapshot unless ``snapshot=False``: for a read of a
        single statement, which is its own snapshot, the engine may then skip the transaction
        around it (on PostgreSQL one round trip instead of three)."""
        ...


@runtime_checkable
class WholeWrites(Protocol[Repo_co]):
    """A factory that can hand a write unit of work to its database in one piece."""

    async def run_write(self, work: Callable[[UnitOfWork[Repo_co]], Awaitable[T]]) -> T:
        """``work`` in one write unit of work, as ``async with factory(write=True)`` would run
        it, but handed to the database at once (``ledger.store.uow``: on SQLite the whole
        transaction runs on the connection's own thread). ``work`` awaits nothing but its unit
        of work."""
        ...


async def run_write(
    units: UnitOfWorkFactory[Repo], work: Callable[[UnitOfWork[Repo]], Awaitable[T]]
) -> T:
    """``work`` in one write unit of work of ``units``: in one piece where the factory can hand
    it over whole (:class:`WholeWrites`), else here. ``work`` commits, or its writes roll back;
    it awaits nothing but its unit of work."""
    if isinstance(units, WholeWrites):
        return await units.run_write(work)
    async with units(write=True) as uow:
        return await work(uow)


@runtime_checkable
class WholeReads(Protocol[Repo_co]):
    """A factory that can hand a read unit of work to its database in one piece."""

    async def run_read(
        self, work: Callable[[UnitOfWork[Repo_co]], Awaitable[T]], *, snapshot: bool = True
    ) -> T:
        """``work`` in one read unit of work, as ``async with factory(write=False,
        snapshot=snapshot)`` would run it, handed to the database at once as
        :meth:`WholeWrites.run_write` hands a write. ``work`` awaits nothing but its unit of
        work."""
        ...


async def run_read(
    units: UnitOfWorkFactory[Repo],
    work: Callable[[UnitOfWork[Repo]], Awaitable[T]],
    *,
    snapshot: bool = True,
) -> T:
    """``work`` in one read unit of work of ``units``: in one piece where the factory can hand
    it over whole (:class:`WholeReads`), else here. It awaits nothing but its unit of work."""
    if isinstance(units, WholeReads):
        return await units.run_read(work, snapshot=snapshot)
    async with units(write=False, snapshot=snapshot) as uow:
        return await work(uow)
