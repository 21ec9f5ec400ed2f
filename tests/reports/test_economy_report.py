"""The report over a co-op chart: groups roll up, and the template's designations decide what is
earned income, external support, essential expense, emergency fund — against figures computed by
hand. Restricted funds appear in the resilience section."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger, NewAccount
from ledger.economy.funds import FundMovement
from ledger.economy.service import Economy
from ledger.kernel.model import AccountType, Community, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from reports.classification import DESIGNATED_ESSENTIAL_BASIS
from reports.period import Period
from reports.render.tables import tables
from reports.service import Reports
from reports.values import RestrictedFund
from tests.ledger.economy_fixtures import account, clock, coop, economy

__all__ = ["clock", "coop", "economy"]

MAY = date(2026, 5, 10)


async def _books(ledger: Ledger, economy: Economy, coop: Community) -> None:
    for code, kind in (("Income:Farm:Eggs", AccountType.INCOME),
                       ("Expenses:Food:Bulk", AccountType.EXPENSE)):  # fmt: skip
        await ledger.open_account(coop.id, NewAccount(code, code, kind, "EUR"))

    async def move(debit: str, credit: str, amount: int) -> None:
        debit_id = (await account(ledger, coop, debit)).id
        credit_id = (await account(ledger, coop, credit)).id
        postings = (PostingSpec(debit_id, amount), PostingSpec(credit_id, -amount))
        await ledger.post_entry(coop.id, NewEntry(postings, "x", effective_date=MAY))

    await move("Assets:Bank", "Income:Farm", 10_000)
    await move("Assets:Bank", "Income:Farm:Eggs", 2_500)
    await move("Assets:Bank", "Income:Workshop", 4_000)
    await move("Assets:Cash", "Income:Donations", 1_000)
    await move("Expenses:Food", "Assets:Bank", 3_000)
    await move("Expenses:Food:Bulk", "Assets:Bank", 1_000)
    await move("Expenses:Housing", "Assets:Bank", 6_000)
    await move("Assets:EmergencyFund", "Assets:Bank", 9_000)
    bank = await account(ledger, coop, "Assets:Bank")
    fund = await economy.funds.create(
        coop.id, name="Greenhouse", code="Greenhouse", held_in_account_id=bank.id
    )
    grants = await account(ledger, coop, "Income:Grants")
    tools = await account(ledger, coop, "Expenses:Tools")
    await economy.funds.receive(
        coop.id, fund.fund.id, FundMovement(grants.id, 50_000, "Grant", MAY)
    )
    await economy.funds.spend(coop.id, fund.fund.id, FundMovement(tools.id, 20_000, "Glass", MAY))


async def test_the_report_rolls_groups_up_and_uses_the_designations(
    ledger: Ledger, economy: Economy, coop: Community, engine: AsyncEngine
) -> None:
    await _books(ledger, economy, coop)
    report = await Reports(SqlUnitOfWorkFactory(engine), connection_of).sustainability(
        coop, Period.parse("2026-05")
    )
    [statement] = report.financial.income_statements
    # Each line by its group account's name (the chart's), its code kept for programs.
    income = {line.name: line.current for line in statement.income if line.current}
    assert income == {"Farm": 12_500, "Workshop": 4_000, "Grants": 50_000, "Donations": 1_000}
    expenses = {line.name: line.current for line in statement.expenses if line.current}
    assert expenses == {"Food": 4_000, "Rent and housing": 6_000, "Tools and repairs": 20_000}
    codes = {line.code: line.name for line in statement.expenses if line.current}
    assert codes["Expenses:Tools"] == "Tools and repairs"
    assert (statement.total_income.current, statement.total_expenses.current) == (67_500, 30_000)

    [point] = [p for s in report.self_sufficiency for p in s.trend if p.period.label == "2026-05"]
    assert (point.earned_income, point.external_support, point.expenses) == (16_500, 51_000, 30_000)

    [fund] = report.resilience.emergency_funds
    # Essential: food 4,000 + housing 6,000 over March–May (tools are not essential).
    assert (fund.balance, fund.monthly_essential_expenses) == (9_000, 3_333)
    assert fund.months_covered == Decimal("2.7")
    assert report.resilience.essential_expenses_basis == DESIGNATED_ESSENTIAL_BASIS

    assert report.resilience.funds == (
        RestrictedFund("Greenhouse", "Assets:Bank:Greenhouse", "EUR", 30_000, 50_000, 20_000),
    )
    assert report.resilience.restricted_funds == "1 designated"

    [flow] = report.financial.cash_flows
    assert {line.code for line in flow.accounts} == {
        "Assets:Bank", "Assets:Bank:Greenhouse", "Assets:Cash",
    }  # fmt: skip
    assert (flow.total.inflow, flow.total.outflow) == (67_500, 39_000)

    rows = next(t for t in tables(report) if t.name == "resilience").rows
    assert ("EUR", "restricted fund Greenhouse: balance", 30_000) in rows
