"""The ledger's use cases, together: ``Ledger`` is the facade the API, the CLI, the reports and
the features call. Each use case runs in one unit of work, committed once; they live by concept
beside it — ``communities`` (and members), ``accounts``, ``entries``, ``reads`` — over the shared
plumbing of ``cases`` and the one write envelope of ``envelope``.
"""

from __future__ import annotations

from functools import cached_property

from ledger.books.accounts import KEEP, AccountCases, AccountChange, NewAccount
from ledger.books.communities import CommunityCases, new_member
from ledger.books.entries import EntryCases
from ledger.books.ports import UnitOfWorkFactory
from ledger.books.reads import BalanceReads

__all__ = ["KEEP", "AccountChange", "Ledger", "NewAccount", "new_member"]
"""The values callers pass to ``Ledger`` are importable from here, beside it."""


class Ledger(CommunityCases, AccountCases, EntryCases, BalanceReads):
    """Use cases over one database. ``uow`` opens units of work; ``clock`` tells UTC time;
    ``events`` hears of every write that took effect and every idempotent replay."""

    @property
    def units(self) -> UnitOfWorkFactory:
        """The unit-of-work factory, for use cases built on the ledger that open their own
        (``ledger.governance``)."""
        return self._uow

    @cached_property
    def replica_view(self) -> Ledger:
        """The same books for reads that need not run on the primary (the community's figures
        on the member pages): every read unit from ``replica_reads``, never staler than the
        request. For reads only: it tells no ``events`` (itself when there is no replica)."""
        if self._replica_reads is self._uow:
            return self
        return Ledger(self._replica_reads, self._clock)
