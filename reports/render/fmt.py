"""Human forms of the report's integers and ratios, for the HTML/PDF pages.

Minutes show as hours and minutes (``61 h 15 min``, never ``61:15 h``, which reads like a clock
time), money with its scale's decimals (``1,234.56``; the table names the commodity), through
``ledger.kernel.quantity``; the machine forms (JSON, XLSX, CSV) keep the integers."""

from __future__ import annotations

from decimal import Decimal

from ledger.kernel import quantity
from ledger.kernel.model import HOURS


def minutes(value: int) -> str:
    return quantity.hours(value, thousands=",")


def amount(value: int, commodity: str, scale: int) -> str:
    """``value`` in the smallest unit of ``commodity`` (minutes for HOURS)."""
    if commodity == HOURS:
        return minutes(value)
    return quantity.number(value, scale)


def percent(value: Decimal | None) -> str:
    """A ratio as a percentage with one decimal (``0.4231`` → ``42.3 %``); ``–`` if undefined."""
    if value is None:
        return "–"
    return f"{(value * 100).quantize(Decimal('0.1'))} %"


def decimal(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "–"
    return str(value.quantize(Decimal(1).scaleb(-places)))
