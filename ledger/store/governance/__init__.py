"""The SQL of governance (``ledger.governance.ports.GovernanceStore``) over one unit of work's
connection, for SQLite and PostgreSQL alike: one module per concept (settings, roles, budgets,
the emergency fund), joined here into the one store the port describes.

Row locks (``FOR UPDATE``) serialise writers of one budget or one disbursement request on
PostgreSQL; SQLite's write transactions are serialised whole (``BEGIN IMMEDIATE``).

The use cases are composed where every service is (``Governance.over(Units(uow,
SqlGovernanceStore.of, clock), ledger)``): this package only answers the port.
"""

from __future__ import annotations

from ledger.store.governance.budgets import SqlBudgets
from ledger.store.governance.fund import SqlFund
from ledger.store.governance.roles import SqlRoles
from ledger.store.governance.settings import SqlSettings


class SqlGovernanceStore(SqlSettings, SqlRoles, SqlBudgets, SqlFund):
    """Every method of ``GovernanceStore`` (``SqlGovernanceStore.of(uow)``): the concepts'
    stores share nothing but the connection, so they are joined by inheritance rather than by
    delegation."""


__all__ = ["SqlGovernanceStore"]
