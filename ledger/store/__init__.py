"""Persistence of the ledger: SQLAlchemy Core tables, repository, unit of work, engines."""

from ledger.store.engine import create_engine
from ledger.store.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = ["SqlUnitOfWork", "SqlUnitOfWorkFactory", "create_engine"]
