"""Shared fixtures of the cooperative-economy tests: an ``Economy`` on the test engine with a
clock the test moves, and a community born with the co-op chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.economy.service import Economy
from ledger.kernel.model import Account, Community
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.economy import SqlEconomyStore
from tests.conftest import unique_slug


@dataclass
class Clock:
    now: datetime = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set_day(self, day: date) -> None:
        self.now = datetime.combine(day, time(12), tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def economy(engine: AsyncEngine, clock: Clock) -> Economy:
    return Economy(SqlUnitOfWorkFactory(engine), SqlEconomyStore.of, clock)


@pytest.fixture
async def coop(economy: Economy) -> Community:
    community, _ = await economy.charts.create_community(
        unique_slug("coop"), "Hilltop Co-op", template="coop"
    )
    return community


async def account(ledger: Ledger, community: Community, code: str) -> Account:
    found = [a for a in await ledger.list_accounts(community.id) if a.code == code]
    assert len(found) == 1, f"no account {code}"
    return found[0]
