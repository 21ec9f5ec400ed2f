"""Page 1 of the report answers the budget meeting's questions in words, says when the period
is open or yet to come, and judges budget lines the right way round for income and expenses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.kernel.quantity import Unit
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from reports.period import Period
from reports.render import budget
from reports.render.html import render_html
from reports.render.summary import banner
from reports.sustainability import ReportRequest, sustainability_report
from reports.timebank import Thresholds
from reports.values import BudgetLineReport, SustainabilityReport
from tests.reports.ledgers import fixed_books

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
EUR = {"EUR": Unit("EUR", "Euro", 2)}


async def _report(engine: AsyncEngine, period: str) -> SustainabilityReport:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    request = ReportRequest(books.community, Period.parse(period), Thresholds())
    return await sustainability_report(
        SqlUnitOfWorkFactory(engine), connection_of, request, lambda: NOW
    )


async def test_page_one_answers_the_meeting_and_flags_an_open_period(engine: AsyncEngine) -> None:
    closed = await _report(engine, "2026-Q3")
    assert banner(closed) is None
    page = render_html(closed)
    head = page[: page.index('<section id="financial">')]
    assert "At a glance" in head
    assert "Net result (EUR)" in head and "EUR 300.00 surplus" in head
    assert "Emergency fund" in head and "Time bank" in head
    assert "no adopted budget covers this period" in head
    open_quarter = await _report(engine, "2026-Q4")
    assert banner(open_quarter) == (
        "The period is not over: figures to 5 December 2026; it ends 31 December 2026. "
        "Every total below is partial."
    )
    assert "figures to 5 December 2026" in render_html(open_quarter)
    future = await _report(engine, "2027-01")
    assert (banner(future) or "").startswith("This period has not begun")


def _line(kind: str, planned: int, actual: int) -> BudgetLineReport:
    group = "Income:Farm" if kind == "income" else "Expenses:Food"
    return BudgetLineReport(
        "Running costs", "2026-Q3", 1, group, "EUR", planned, actual, 0, planned - actual,
        Decimal(actual) / Decimal(planned), kind, date(2026, 7, 1), date(2026, 9, 30),
    )  # fmt: skip


async def test_budget_lines_are_judged_in_words_the_right_way_round(engine: AsyncEngine) -> None:
    report = await _report(engine, "2026-Q3")
    lines = (
        _line("expense", 10_000, 54_000),
        _line("expense", 10_000, 6_000),
        _line("income", 10_000, 6_000),
        _line("income", 10_000, 12_000),
        _line("income", 10_000, 10_200),
    )
    with_budget = replace(report, financial=replace(report.financial, budget_lines=lines))
    shown = budget.view(with_budget, EUR)
    assert [(v.name, v.verdict, v.tone) for v in shown] == [
        ("Food", "over budget by EUR 440.00 (540 %)", "bad"),
        ("Food", "under budget by EUR 40.00 (60 %)", "good"),
        ("Farm", "short of plan by EUR 40.00 (60 %)", "bad"),
        ("Farm", "ahead of plan by EUR 20.00 (120 %)", "good"),
        ("Farm", "on plan (102 %)", "good"),
    ]
    page = render_html(with_budget)
    table = page[page.index("<h3>Budget vs actual</h3>") :]
    table = table[table.index("<tbody>") : table.index("</table>")]
    assert table.count("<tr") == 5 and "Running costs" not in table, "no budget name per line"
    assert '<tr class="bad"><td>Food' in page
    assert "2 of 5 lines are off plan" in page


async def test_periods_before_the_books_begin_show_a_dash_not_zero(engine: AsyncEngine) -> None:
    report = await _report(engine, "2025-Q4")  # the books begin on 10 August 2025
    assert report.history_from == date(2025, 8, 10)
    assert report.before_history(report.year_earlier_period)  # 2024-Q4
    assert not report.before_history(report.period)
    page = render_html(report)
    statement = page[page.index("<h3>Income statement</h3>") : page.index("<h3>Cash flow</h3>")]
    rows = [row for row in statement.split("<tr") if "Total income" in row]
    assert rows and rows[0].rstrip().endswith('<td class="n">—</td></tr>')
    trend_chart = page[page.index("Income and expenses, EUR") :].split("</figure>")[0]
    assert "2025-Q2" not in trend_chart and "2025-Q3" in trend_chart, "no empty period drawn"
    # The shares of the two periods without books are no history (—), like their figures, not
    # the undefined ratio (–) of a period with books but no expenses.
    trend = page[page.index("<h2>Self-sufficiency</h2>") :].split("</table>")[0]
    share = next(row for row in trend.split("<tr") if "Earned share of expenses" in row)
    assert share.count(">—</td>") == 2 and share.count(">–</td>") == 2, share
