"""An archive carries the cooperative economy too: designations, funds, schedules and their
occurrences restore as they were, between any two engines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.economy.barter import BarterItem, BarterSide
from ledger.economy.funds import FundMovement
from ledger.economy.schedules import Frequency, NewSchedule
from ledger.economy.service import Economy
from ledger.kernel.model import HOURS
from ledger.store import SqlUnitOfWorkFactory, archive, create_engine
from ledger.store.economy import SqlEconomyStore
from ledger.store.migrate import head_revision, upgrade
from tests.conftest import unique_slug
from tests.databases import postgres_database, sqlite_url

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "restored.db")
        return
    with postgres_database("cl_restore") as url:
        yield url


@pytest.fixture
async def target(target_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(target_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def _economy(engine: AsyncEngine) -> tuple[Ledger, Economy]:
    units = SqlUnitOfWorkFactory(engine)
    return Ledger(units), Economy(units, SqlEconomyStore.of, lambda: NOW)


async def test_an_archive_restores_the_economy(engine: AsyncEngine, target: AsyncEngine) -> None:
    ledger, economy = _economy(engine)
    community, _ = await economy.charts.create_community(unique_slug(), "Co-op", template="coop")
    code = {a.code: a.id for a in await ledger.list_accounts(community.id)}
    fund = await economy.funds.create(
        community.id, name="Greenhouse", code="Greenhouse", held_in_account_id=code["Assets:Bank"]
    )
    await economy.funds.receive(
        community.id, fund.fund.id, FundMovement(code["Income:Grants"], 5_000, "Grant")
    )
    await ledger.add_commodity(community.id, "EGGS", "Eggs", 0)
    ann = await ledger.create_member(community.id, "Ann")
    await economy.barters.record(
        community.id,
        (
            BarterSide(ann.id, (BarterItem("EGGS", 6, "eggs"),)),
            BarterSide(None, (BarterItem(HOURS, 30, "help"),)),
        ),
        "Eggs for the pool",
    )
    dues = NewSchedule(
        "Dues", code["Assets:Bank"], code["Income:Dues"], 100, Frequency.MONTHLY, date(2026, 9, 1)
    )
    schedule = await economy.schedules.create(community.id, dues)
    assert await economy.materialise_due(community.id, date(2026, 11, 1)) == 3

    lines = [
        line async for line in archive.export_lines(engine, community.slug, head_revision(), NOW)
    ]
    restored = await archive.import_lines(target, lines, head_revision())
    assert restored.rows["schedule_occurrences"] == 3 and restored.rows["funds"] == 1
    copy_ledger, copy = _economy(target)
    assert await copy.funds.list_funds(community.id) == await economy.funds.list_funds(community.id)
    assert await copy.barters.list_barters(community.id) == await economy.barters.list_barters(
        community.id
    )
    assert await copy.charts.designations(community.id) == await economy.charts.designations(
        community.id
    )
    sid = schedule.schedule.id
    assert await copy.schedules.get(community.id, sid) == await economy.schedules.get(
        community.id, sid
    )
    # The copy knows which periods are done: running the job there writes nothing twice.
    assert await copy.materialise_due(community.id, date(2026, 11, 1)) == 0
    assert await copy_ledger.trial_balance(community.id) == await ledger.trial_balance(community.id)
