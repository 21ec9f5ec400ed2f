"""Amounts in people's words (ledger/kernel/quantity.py): each commodity in its own unit, exact,
with a real minus sign."""

from __future__ import annotations

from ledger.kernel.quantity import HOURS_UNIT, Unit, hours, show, unit_for

EUR = Unit("EUR", "Euro", 2)
HONEY = Unit("HONEY", "Jars of honey", 0)


def test_hours_read_as_hours_and_minutes_not_a_clock_time() -> None:
    assert show(2130, HOURS_UNIT) == "35 h 30 min"
    assert show(-2130, HOURS_UNIT) == "\N{MINUS SIGN}35 h 30 min"
    assert show(-1200, HOURS_UNIT) == "\N{MINUS SIGN}20 h"
    assert show(45, HOURS_UNIT) == "45 min"
    assert show(0, HOURS_UNIT) == "0 min"
    assert hours(3675) == "61 h 15 min"
    assert hours(123_456 * 60, thousands=",") == "123,456 h"


def test_money_shows_its_code_and_exact_decimals() -> None:
    assert show(1250, EUR) == "EUR 12.50"
    assert show(-5, EUR) == "EUR \N{MINUS SIGN}0.05"
    assert show(10**17 + 1, EUR) == "EUR 1,000,000,000,000,000.01"


def test_goods_show_a_count_of_the_commodity_name() -> None:
    assert show(4, HONEY) == "4 jars of honey"
    assert show(-4, HONEY) == "\N{MINUS SIGN}4 jars of honey"


def test_an_unknown_commodity_falls_back_to_its_code() -> None:
    assert unit_for("HOURS") == HOURS_UNIT
    assert show(7, unit_for("EGGS")) == "7 EGGS"
    assert unit_for("EUR", {"EUR": EUR}) == EUR
