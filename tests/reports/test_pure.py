"""Pure parts of the report: periods, ratios, inequality, cell escaping, classification."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from ledger.kernel import errors
from reports import classification, financial
from reports.period import Period
from reports.queries.figures import AccountRow
from reports.queries.movements import Movement
from reports.ratios import gini, ratio, top_share
from reports.render import charts, fmt
from reports.render.cells import safe_text


def test_periods_parse_and_compare() -> None:
    q1 = Period.parse("2024-Q1")
    assert (q1.start, q1.end, q1.months) == (date(2024, 1, 1), date(2024, 3, 31), 3)
    assert (q1.previous.label, q1.year_earlier.label) == ("2023-Q4", "2023-Q1")
    february = Period.parse("2024-02")
    assert february.end == date(2024, 2, 29)
    assert february.year_earlier == Period(date(2023, 2, 1), date(2023, 2, 28))
    assert Period.parse("2026").previous.label == "2025"
    # Not whole months: moves by its length in days; 29 February a year back is the 28th.
    odd = Period.of(date(2024, 2, 10), date(2024, 2, 29))
    assert odd.previous == Period(date(2024, 1, 21), date(2024, 2, 9))
    assert odd.year_earlier == Period(date(2023, 2, 10), date(2023, 2, 28))
    assert Period.parse("2026-09").trailing_months(3) == Period.parse("2026-Q3")


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "26", "2026-Q3 ", "1800"])
def test_malformed_periods_are_refused(text: str) -> None:
    with pytest.raises(errors.InvalidInput):
        Period.parse(text)


def test_backwards_and_overlong_ranges_are_refused() -> None:
    with pytest.raises(errors.InvalidInput):
        Period.of(date(2026, 2, 1), date(2026, 1, 31))
    with pytest.raises(errors.InvalidInput):
        Period.of(date(2000, 1, 1), date(2020, 1, 1))


def test_ratios_and_inequality() -> None:
    assert ratio(1, 3) == Decimal("0.3333")
    assert ratio(2, 3) == Decimal("0.6667")
    assert ratio(5, 0) is None
    assert gini([10, 10, 10, 10]) == Decimal("0.0000")
    # One of four gives everything: Σ(2i − n − 1)xᵢ / (n Σx) = 3·100 / (4·100).
    assert gini([0, 0, 0, 100]) == Decimal("0.7500")
    assert gini([]) is None and gini([0, 0]) is None
    assert top_share(list(range(1, 21))) == (2, Decimal("0.1857"))  # (20 + 19) / 210
    assert top_share([5]) == (1, Decimal("1.0000"))
    assert top_share([]) == (0, None)


def test_human_forms() -> None:
    assert fmt.minutes(90) == "1 h 30 min" and fmt.minutes(-5) == "−5 min"
    assert fmt.minutes(3675) == "61 h 15 min" and fmt.minutes(60_000 * 60) == "60,000 h"
    assert fmt.amount(123456, "EUR", 2) == "1,234.56"
    assert fmt.amount(-7, "EUR", 2) == "−0.07"
    assert fmt.percent(Decimal("0.4231")) == "42.3 %" and fmt.percent(None) == "–"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx"])
def test_formula_text_is_escaped(text: str) -> None:
    assert safe_text(text) == "'" + text
    assert safe_text("Ann") == "Ann"


def test_classification_convention() -> None:
    assert classification.group_code("Income:Farm:Eggs") == "Income:Farm"
    assert classification.group_of("Income:Farm:Eggs") == "Farm"
    assert classification.is_external_support("Income:Donations")
    assert not classification.is_external_support("Income:Farm")
    assert classification.is_cash_or_bank("asset", "Assets:Bank:Savings")
    assert not classification.is_cash_or_bank("expense", "Assets:Bank")
    assert classification.is_emergency_fund("asset", "Assets:EmergencyFund")
    assert not classification.is_emergency_fund("asset", "Assets:Bank")


def test_groups_are_named_by_their_own_accounts() -> None:
    def account(code: str, name: str) -> AccountRow:
        return AccountRow(uuid.uuid4(), code, name, "expense", "EUR", None, None)

    name = classification.group_names(
        [account("Expenses:FarmSupplies", "Seeds, feed and farm supplies"),
         account("Expenses:FarmSupplies:Feed", "Feed"), account("Expenses:Rent:Hall", "Hall")]
    )  # fmt: skip
    assert name("Expenses:FarmSupplies") == "Seeds, feed and farm supplies"
    assert name("Expenses:FarmSupplies:Feed") == "Feed"
    # A group without an account of its own: its code's second segment.
    assert name("Expenses:Rent") == "Rent"


def test_member_accounts_are_one_line_named_for_their_commodity() -> None:
    def account(code: str, commodity: str, member: bool) -> AccountRow:
        member_id = uuid.uuid4() if member else None
        return AccountRow(uuid.uuid4(), code, code, "liability", commodity, member_id, None)

    accounts = [
        account("member:a", "HOURS", True),
        account("member:a:EGGS", "EGGS", True),
        account("member:b:EGGS", "EGGS", True),
        account("Liabilities:Owed", "EGGS", False),
    ]
    moved = {a.id: Movement(0, 6) for a in accounts}
    names = {"EGGS": "Eggs", "HOURS": "Hours"}
    sheets = {s.commodity: s for s in financial.balance_sheets(accounts, moved, names)}
    # The commodity by its name, as people read it, not its code.
    assert [(line.name, line.amount) for line in sheets["EGGS"].liabilities] == [
        ("Liabilities:Owed", 6),
        ("Members' accounts in eggs", 12),
    ]
    assert [line.name for line in sheets["HOURS"].liabilities] == ["Member time accounts"]


def test_chart_labels_fit_their_column() -> None:
    # Lines are named by their accounts now, and a name may be long: cut, never drawn past
    # the chart's left edge.
    name = "Seeds, feed, tools and every other supply of the farm"
    chart = charts.bar_chart("t", [(name, [("expense", 5)]), ("Food", [("expense", 3)])], str)
    assert [bar.label for bar in chart.bars] == ["Seeds, feed, tools and every…", "Food"]
    assert len(chart.bars[0].label) <= charts.LABEL_CHARS
