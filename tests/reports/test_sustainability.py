"""Report figures against hand-computed expectations on the fixed books of ``ledgers.py``.

The period is 2026-Q3 (previous: 2026-Q2, a year earlier: 2025-Q3). Edge cases in the books: an
entry and its reversal inside the period (Food 4,000 cents; Ann's 90-minute exchange), a pending
entry (Farm 7,000; Cat's 45 minutes) and a voided one (Rent 1,000), entries after the period,
a member with no exchanges at all (Eve, who joined in the period), a dormant one (Dan) and one
who joined after the period (Fay).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.governance.model import GovernanceSettings
from ledger.governance.service import Governance
from ledger.governance.transactions import GovernanceTransactions
from ledger.kernel.clock import utc_now
from ledger.kernel.model import NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.governance import SqlGovernanceStore
from ledger.store.scoped import connection_of
from reports.period import Period
from reports.sustainability import ReportRequest, sustainability_report
from reports.timebank import Thresholds
from reports.values import CashLine, Compared, Line, SustainabilityReport
from tests.reports.ledgers import Books, fixed_books

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
Q3 = Period.parse("2026-Q3")


async def _report(engine: AsyncEngine, books: Books, period: Period = Q3) -> SustainabilityReport:
    request = ReportRequest(books.community, period, Thresholds(burnout_minutes=300))
    return await sustainability_report(
        SqlUnitOfWorkFactory(engine), connection_of, request, lambda: NOW
    )


async def test_financial_figures(engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    report = await _report(engine, books)
    assert (report.period.start, report.period.end, report.period.label) == (
        date(2026, 7, 1), date(2026, 9, 30), "2026-Q3"
    )  # fmt: skip
    assert report.previous_period.label == "2026-Q2"
    assert report.year_earlier_period.label == "2025-Q3"
    assert report.generated_at == NOW
    eur = {s.commodity: s for s in report.financial.income_statements}["EUR"]
    # Each line by its account's name, as people read it; its code for programs.
    assert eur.income == (
        Compared("Farm shop", 30_000, 20_000, 10_000, "Income:Farm"),
        Compared("Grants", 12_000, 0, 0, "Income:Grants"),
    )
    # Food: 3,000 spent, 4,000 spent and reversed.
    assert eur.expenses == (
        Compared("Food", 3_000, 6_000, 0, "Expenses:Food"),
        Compared("Rent of the hall", 9_000, 0, 0, "Expenses:Rent"),
    )
    assert eur.total_income == Compared("Total income", 42_000, 20_000, 10_000)
    assert eur.total_expenses == Compared("Total expenses", 12_000, 6_000, 0)
    assert eur.net == Compared("Net result", 30_000, 14_000, 10_000)

    sheet = {s.commodity: s for s in report.financial.balance_sheets}["EUR"]
    assert sheet.assets == (
        Line("Assets:Bank", "Assets:Bank", 96_000),
        Line("Assets:Cash", "Assets:Cash", 2_000),
        Line("Assets:EmergencyFund", "Assets:EmergencyFund", 6_000),
    )
    assert sheet.equity == (Line("Equity:Opening", "Equity:Opening", 50_000),)
    assert (sheet.total_assets, sheet.total_liabilities, sheet.total_equity) == (104_000, 0, 50_000)
    assert sheet.earnings == 54_000  # income 72,000 − expenses 18,000 to date
    hours = {s.commodity: s for s in report.financial.balance_sheets}["HOURS"]
    assert hours.liabilities == (Line("member:*", "Member time accounts", 0),)

    (flow,) = report.financial.cash_flows
    assert flow.accounts == (
        CashLine("Assets:Bank", "Assets:Bank", 74_000, 46_000, 24_000, 96_000),
        CashLine("Assets:Cash", "Assets:Cash", 0, 5_000, 3_000, 2_000),
    )
    assert flow.total == CashLine("*", "All cash and bank accounts", 74_000, 51_000, 27_000, 98_000)
    # Only the Farm entry and Cat's exchange are still pending; the Rent one was voided.
    assert report.financial.pending_entries == 2
    assert [(p.commodity, p.income, p.expenses) for p in report.financial.pending] == [
        ("EUR", 7_000, 0)
    ]
    assert report.financial.budget == "no adopted budget"


async def test_resilience_and_self_sufficiency(engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    report = await _report(engine, books)
    (fund,) = report.resilience.emergency_funds
    # Expenses July–September: 12,000, so 4,000 a month; 6,000 covers a month and a half.
    assert (fund.commodity, fund.balance, fund.target, fund.target_status) == (
        "EUR", 6_000, None, "no target set"
    )  # fmt: skip
    assert fund.monthly_essential_expenses == 4_000
    assert fund.months_covered == Decimal("1.5000")
    assert report.resilience.restricted_funds == "none designated"

    # The community names its fund and a target: three months of the same burn, then an amount.
    units = GovernanceTransactions(SqlUnitOfWorkFactory(engine), SqlGovernanceStore.of, utc_now)
    governance = Governance.over(units, books.ledger)
    accounts = {a.code: a.id for a in await books.ledger.list_accounts(books.community.id)}
    settings = GovernanceSettings(
        books.community.id, fund_account_id=accounts["Assets:EmergencyFund"], fund_target_months=3
    )
    await governance.fund.configure(books.community.id, settings)
    (fund,) = (await _report(engine, books)).resilience.emergency_funds
    assert (fund.balance, fund.target, fund.target_status) == (6_000, 12_000, "below target")
    await governance.fund.configure(
        books.community.id, replace(settings, fund_target_months=None, fund_target=5_000)
    )
    (fund,) = (await _report(engine, books)).resilience.emergency_funds
    assert (fund.target, fund.target_status, fund.months_covered) == (
        5_000, "target met", Decimal("1.5000")
    )  # fmt: skip

    (eur,) = report.self_sufficiency
    assert [p.period.label for p in eur.trend] == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    q4, q1, q2, q3 = eur.trend
    assert (q4.total_income, q4.expenses, q4.earned_share_of_expenses) == (0, 0, None)
    assert q1.external_share_of_income is None
    assert (q2.earned_income, q2.expenses, q2.earned_share_of_expenses) == (
        20_000, 6_000, Decimal("3.3333")
    )  # fmt: skip
    assert q2.external_share_of_income == Decimal("0.0000")
    assert (q3.earned_income, q3.external_support, q3.total_income, q3.expenses) == (
        30_000, 12_000, 42_000, 12_000
    )  # fmt: skip
    assert q3.earned_share_of_expenses == Decimal("2.5000")
    assert q3.external_share_of_income == Decimal("0.2857")  # 12,000 / 42,000


async def test_time_bank_health(engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    health = (await _report(engine, books)).time_bank
    ann, bob, cat = (books.members[n].id for n in ("Ann", "Bob", "Cat"))
    # Confirmed in Q3 and not reversed: Bob→Ann 120, Bob→Cat 180, Ann→Bob 60, Cat→Ann 90,
    # Bob→Ann 60.
    assert (health.exchanges, health.minutes_exchanged) == (5, 510)
    # Ann, Bob, Cat, Dan, Eve; Fay joined after the period.
    assert (health.members, health.active_members) == (5, 3)
    assert health.participation_rate == Decimal("0.6000")
    assert (health.new_members, health.dormant_members) == (1, 1)  # Eve; Dan
    assert (health.reciprocal_members, health.reciprocity_rate) == (3, Decimal("1.0000"))
    assert [(g.name, g.minutes) for g in health.given] == [
        ("Bob", 360), ("Cat", 90), ("Ann", 60), ("Dan", 0), ("Eve", 0)
    ]  # fmt: skip
    # Sorted [0, 0, 60, 90, 360]: (0·60 + 2·90 + 4·360) / (5 · 510) = 1620 / 2550.
    assert health.gini_given == Decimal("0.6353")
    assert (health.top_decile_givers, health.top_decile_share) == (1, Decimal("0.7059"))
    assert [(m.member_id, m.minutes) for m in health.burnout_watch] == [(bob, 360)]
    # Ann's balance at the end of September: gave 60, received 330 → −270, limit −300.
    assert [(s.member_id, s.balance, s.balance_min) for s in health.support_watch] == [
        (ann, -270, -300)
    ]
    assert [(c.category, c.exchanges, c.minutes) for c in health.by_category] == [
        ("gardening", 3, 240), ("cooking", 1, 180), ("(no category)", 1, 90)
    ]  # fmt: skip
    assert cat not in {m.member_id for m in health.burnout_watch}


async def test_an_empty_period(engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    report = await _report(engine, books, Period.parse("2024-02"))
    eur = {s.commodity: s for s in report.financial.income_statements}["EUR"]
    assert eur.total_income == Compared("Total income", 0, 0, 0)
    assert report.financial.cash_flows[0].total == CashLine(
        "*", "All cash and bank accounts", 0, 0, 0, 0
    )
    assert report.financial.pending_entries == 0
    assert report.resilience.emergency_funds[0].months_covered is None
    health = report.time_bank
    assert (health.exchanges, health.members, health.participation_rate) == (0, 0, None)
    assert (health.gini_given, health.top_decile_share) == (None, None)
    assert (health.burnout_watch, health.support_watch, health.by_category) == ((), (), ())


async def test_the_fingerprint_follows_the_ledger_state(engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    first, again = await _report(engine, books), await _report(engine, books)
    assert first.fingerprint == again.fingerprint
    assert len(first.fingerprint) == 64
    ann, bob = books.members["Ann"], books.members["Bob"]
    entry = NewEntry(
        (PostingSpec(ann.hours_account_id, 5), PostingSpec(bob.hours_account_id, -5)),
        "late", pending=True, effective_date=date(2027, 1, 1),
    )  # fmt: skip
    pending = await books.ledger.post_entry(books.community.id, entry)
    after_new = (await _report(engine, books)).fingerprint
    await books.ledger.void_pending(books.community.id, pending.id)
    after_void = (await _report(engine, books)).fingerprint
    assert len({first.fingerprint, after_new, after_void}) == 3
