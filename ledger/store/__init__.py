"""Persistence of the ledger: SQLAlchemy Core tables, repository, unit of work, engines."""

from ledger.store.engine import DatabaseTimeouts, create_engine
from ledger.store.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = ["DatabaseTimeouts", "SqlUnitOfWork", "SqlUnitOfWorkFactory", "create_engine"]
