"""Human forms of the report's integers and ratios, for the HTML/PDF pages.

Minutes show as hours and minutes (``12:30 h``), money with its scale's decimals (``1,234.56``);
the machine forms (JSON, XLSX, CSV) keep the integers."""

from __future__ import annotations

from decimal import Decimal

from ledger.kernel.model import HOURS


def minutes(value: int) -> str:
    sign = "−" if value < 0 else ""
    hours, rest = divmod(abs(value), 60)
    return f"{sign}{hours:,}:{rest:02d} h"


def amount(value: int, commodity: str, scale: int) -> str:
    """``value`` in the smallest unit of ``commodity`` (minutes for HOURS)."""
    if commodity == HOURS:
        return minutes(value)
    sign = "−" if value < 0 else ""
    if scale == 0:
        return f"{sign}{abs(value):,}"
    whole, fraction = divmod(abs(value), 10**scale)
    return f"{sign}{whole:,}.{fraction:0{scale}d}"


def percent(value: Decimal | None) -> str:
    """A ratio as a percentage with one decimal (``0.4231`` → ``42.3 %``); ``–`` if undefined."""
    if value is None:
        return "–"
    return f"{(value * 100).quantize(Decimal('0.1'))} %"


def decimal(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "–"
    return str(value.quantize(Decimal(1).scaleb(-places)))
