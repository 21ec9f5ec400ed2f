"""The cooperative economy's use cases, together: charts, restricted funds, barter, schedules.

The composition root builds one :class:`Economy` over the same units of work as the ledger;
``ledger.store.economy.SqlEconomyStore.of`` is the ``store_of`` it passes.
"""

from __future__ import annotations

import uuid
from datetime import date

from ledger.books.ports import UnitOfWorkFactory
from ledger.economy.barter import Barters
from ledger.economy.chart import Charts
from ledger.economy.funds import Funds
from ledger.economy.ports import Books, StoreOf
from ledger.economy.schedules import Schedules
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.observer import LedgerEvents


class Economy:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        store_of: StoreOf,
        clock: Clock = utc_now,
        events: LedgerEvents | None = None,
    ) -> None:
        books = Books(units, store_of, clock, events)
        self.charts = Charts(books)
        self.funds = Funds(books)
        self.barters = Barters(books)
        self.schedules = Schedules(books)

    async def materialise_due(self, community_id: uuid.UUID, today: date) -> int:
        """The periodic job (daily): every recurring entry due by ``today`` written exactly
        once, however often and from however many processes it runs."""
        return await self.schedules.materialise_due(community_id, today)
