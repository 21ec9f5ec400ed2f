"""The demo shows the co-op economy: business lines with entries, a grant fund with income and
spending, barter trades and a monthly dues schedule with its entries — on each engine, in a
database of its own (the demo's slug is fixed)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from beancount import loader

from api.demo.seed import seed_demo
from ledger.books.service import Ledger
from ledger.economy.service import Economy
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.economy import SqlEconomyStore
from ledger.store.scoped import connection_of
from reports.exports.journal import ExportFormat, JournalExports
from reports.period import Period
from reports.queries.journal import DateRange
from reports.service import Reports
from tests.databases import migrate, postgres_database, sqlite_url
from tests.reports.test_exports_tools import HLEDGER


@contextmanager
def _database(engine_name: str, tmp_path: Path) -> Iterator[str]:
    if engine_name == "sqlite":
        yield sqlite_url(tmp_path / "demo.db")
    else:
        with postgres_database() as url:
            yield url


async def _check_demo(url: str) -> tuple[str, str]:
    """Checks the seeded demo; returns its journal as Beancount and as hledger text."""
    await migrate(url)
    engine = create_engine(url)
    try:
        units = SqlUnitOfWorkFactory(engine)
        ledger, economy = Ledger(units), Economy(units, SqlEconomyStore.of)
        community, created = await seed_demo(ledger, economy)
        assert created
        trial = await ledger.trial_balance(community.id)
        assert {c.commodity for c in trial.commodities} >= {"HOURS", "EUR", "EGGS", "HONEY"}
        assert all(c.total_debit == c.total_credit for c in trial.commodities)
        [fund] = await economy.funds.list_funds(community.id)
        assert fund.balance.posted == 300_000 - 120_000 - 35_000
        barters = await economy.barters.list_barters(community.id)
        assert len(barters) == 4
        [schedule] = await economy.schedules.list_schedules(community.id)
        assert schedule.materialised >= 2 and schedule.schedule.status == "active"
        today = date.today()
        period = Period.of(today - timedelta(days=120), today)
        report = await Reports(units, connection_of).sustainability(community, period)
        [eur] = [s for s in report.financial.income_statements if s.commodity == "EUR"]
        # Each line by the name people read (the demo renamed some of the chart's accounts).
        lines = {line.name: line.current for line in eur.income}
        named = ("Farm shop sales", "Workshops", "Retreats", "Member dues", "Grants")
        assert all(lines[name] > 0 for name in named), lines
        assert {line.code: line.name for line in eur.income}["Income:Farm"] == "Farm shop sales"
        costs = {line.code: line.name for line in eur.expenses}
        assert costs["Expenses:FarmSupplies"] == "Seeds, feed and farm supplies"
        assert [f.name for f in report.resilience.funds] == ["Greenhouse grant"]
        exports = JournalExports(units, connection_of)
        whole = DateRange(None, None)
        text = "".join(
            [c async for c in exports.stream(community.id, ExportFormat.BEANCOUNT, whole)]
        )
        hledger = "".join(
            [c async for c in exports.stream(community.id, ExportFormat.HLEDGER, whole)]
        )
        return text, hledger
    finally:
        await engine.dispose()


def test_the_demo_shows_the_coop_economy(engine_name: str, tmp_path: Path) -> None:
    with _database(engine_name, tmp_path) as url:
        beancount, hledger = asyncio.run(_check_demo(url))
    # The journal with barter's goods accounts and a fund under the bank loads in Beancount (its
    # balance assertions include sub-accounts) and checks in hledger.
    assert loader.load_string(beancount)[1] == []
    path = tmp_path / "demo.hledger"
    path.write_text(hledger)
    checked = subprocess.run(
        [HLEDGER, "-f", str(path), "check", "-s", "ordereddates"], capture_output=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
