"""Budget vs actual in the sustainability report: every line of the adopted versions in force,
with figures hand-computed on a small fixed ledger, in JSON, HTML, XLSX and CSV."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import msgspec
import openpyxl
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.governance.model import BudgetLine
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from reports.period import Period
from reports.render.csv import render_csv
from reports.render.html import render_html
from reports.render.tables import SECTIONS
from reports.render.xlsx import render_xlsx
from reports.sustainability import ReportRequest, sustainability_report
from reports.values import BudgetLineReport, SustainabilityReport
from tests.ledger.governance_world import World, make_world

FOOD = BudgetLine("Expenses:Food", "EUR", 10_000)


async def _report(engine: AsyncEngine, world: World, period: Period) -> SustainabilityReport:
    request = ReportRequest(world.community, period)
    return await sustainability_report(
        SqlUnitOfWorkFactory(engine), connection_of, request, world.clock
    )


async def test_the_report_lists_each_line_of_the_budgets_in_force(engine: AsyncEngine) -> None:
    world = await make_world(engine)
    await world.stewards(0)
    budgets, ann = world.governance.budgets, world.members[0].id
    before = await _report(engine, world, Period.parse("2026-11"))
    assert (before.financial.budget, before.financial.budget_lines) == ("no adopted budget", ())
    draft = await budgets.create(world.cid, "Kitchen", "2026-Q4", [FOOD])
    await world.move("Expenses:Food", "Assets:Bank", 3_000, date(2026, 10, 20))
    await world.move("Expenses:Food:Bread", "Assets:Bank", 1_500, date(2026, 11, 10))
    await world.move("Expenses:Food", "Assets:Bank", 700, date(2026, 11, 12), pending=True)
    await world.move("Expenses:Food", "Assets:Bank", 9_000, date(2026, 12, 5))  # after November
    assert (await _report(engine, world, Period.parse("2026-11"))).financial.budget_lines == ()
    await budgets.consent(world.cid, draft.id, ann)
    revision = BudgetLine("Expenses:Food", "EUR", 12_000)
    v2 = await budgets.revise(
        world.cid, draft.id, lines=[revision], effective_from=date(2026, 11, 15)
    )
    await budgets.consent(world.cid, v2.id, ann)

    november = await _report(engine, world, Period.parse("2026-11"))
    # Both versions were in force for part of November; actuals run from 1 October to 30 November.
    q4 = (date(2026, 10, 1), date(2026, 12, 31))
    assert november.financial.budget_lines == (
        BudgetLineReport("Kitchen", "2026-Q4", 1, "Expenses:Food", "EUR", 10_000, 4_500, 700,
                         5_500, Decimal("0.4500"), "expense", *q4, "Food and kitchen"),
        BudgetLineReport("Kitchen", "2026-Q4", 2, "Expenses:Food", "EUR", 12_000, 4_500, 700,
                         7_500, Decimal("0.3750"), "expense", *q4, "Food and kitchen"),
    )  # fmt: skip
    assert november.financial.budget == "adopted: Kitchen (2026-Q4, v1); Kitchen (2026-Q4, v2)"
    december = await _report(engine, world, Period.parse("2026-12"))
    assert [(b.version, b.actual) for b in december.financial.budget_lines] == [(2, 13_500)]

    decoded = msgspec.json.decode(msgspec.json.encode(november), type=SustainabilityReport)
    assert decoded.financial.budget_lines == november.financial.budget_lines
    page = render_html(november)
    # The Q4 plan pro-rated to the 61 days of actuals (1 October to 30 November) of its 92.
    # Each line by its account's name, not its code.
    assert "Food and kitchen (Kitchen v2)" in page and "plan pro-rated to 61 of 92 days" in page
    assert "under budget by EUR 21.30 (68 %)" in page  # v1: 4,500 of 6,630
    csv = render_csv(SECTIONS["budget-vs-actual"](november))
    assert csv.splitlines()[0].startswith("commodity,budget,period,version,account_group,name,")
    assert len(csv.splitlines()) == 3
    # Programs keep the group's code; people read the line by its accounts' name.
    assert ",Expenses:Food,Food and kitchen," in csv.splitlines()[1]
    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(november)))
    sheet = workbook["budget-vs-actual"]
    assert sheet.max_row == 3
