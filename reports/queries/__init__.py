"""Read-side SQL for reports and exports: aggregations over ``ledger.store.tables``, run on a
unit of work's connection so a whole report reads one snapshot.

The reports' use cases open the kernel's ``UnitOfWork`` port like every other use case; the
one thing they need beside it is the connection of the unit of work they opened, which only the
store can give, since it alone knows its unit of work's class. So the composition root hands
them ``ledger.store.scoped.connection_of`` as a :data:`ConnectionOf` — the same function every
feature store is built with — rather than a unit of work of their own that lends its connection:
reports read the store's tables (a report is aggregations across every concept, which stores
per aggregate would only hide) but import no other store module (the import contracts).
"""

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel.uow import UnitOfWork

ConnectionOf = Callable[[UnitOfWork[object]], AsyncConnection]
"""The connection of an open unit of work, in its transaction and snapshot."""
