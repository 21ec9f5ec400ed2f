"""Amounts in people's words: an integer in a commodity's smallest unit shown in its own unit.

The one place that turns a stored integer into what a member or treasurer reads in an error, the
command line or a report: minutes as hours and minutes (``35 h 30 min``, never ``35:30 h``, which
reads like a clock time), money with its code and decimals (``EUR 12.50``), goods as a count of
the commodity's name (``4 jars of honey``). A negative amount takes a real minus sign (U+2212).
Machine forms (JSON members, CSV, XLSX) keep the integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ledger.kernel.model import HOURS, Commodity

MINUS = "\N{MINUS SIGN}"


@dataclass(frozen=True, slots=True)
class Unit:
    """What a commodity's amounts are shown in: its code, its name, its scale (decimal places
    between the stored integer and the display unit; HOURS: 0, stored in minutes)."""

    code: str
    name: str
    scale: int

    @classmethod
    def of(cls, commodity: Commodity) -> Unit:
        return cls(commodity.code, commodity.name, commodity.scale)


HOURS_UNIT = Unit(HOURS, "Hours", 0)

Units = Mapping[str, Unit]
"""Units by commodity code."""


def units_of(commodities: Iterable[Commodity]) -> dict[str, Unit]:
    return {commodity.code: Unit.of(commodity) for commodity in commodities}


def unit_for(code: str, units: Units | None = None) -> Unit:
    """The unit of ``code``: from ``units`` when known; HOURS is the same everywhere; any other
    unknown commodity shows its plain count with its code."""
    if units is not None and code in units:
        return units[code]
    return HOURS_UNIT if code == HOURS else Unit(code, code, 0)


def sign(amount: int) -> str:
    return MINUS if amount < 0 else ""


def hours(minutes: int, *, thousands: str = "") -> str:
    """``2130`` → ``35 h 30 min``; whole hours drop the minutes (``20 h``), less than an hour
    drops the hours (``45 min``). ``thousands`` separates groups of the hours (``1,234 h``)."""
    whole, rest = divmod(abs(minutes), 60)
    shown_hours = f"{whole:,}".replace(",", thousands)
    if whole and rest:
        text = f"{shown_hours} h {rest} min"
    elif whole:
        text = f"{shown_hours} h"
    else:
        text = f"{rest} min"
    return sign(minutes) + text


def number(amount: int, scale: int, *, thousands: str = ",") -> str:
    """The amount as an exact decimal of ``scale`` places, without floats (``−1,234.56``)."""
    whole, fraction = divmod(abs(amount), 10**scale)
    decimals = f".{fraction:0{scale}d}" if scale else ""
    return f"{sign(amount)}{whole:,}".replace(",", thousands) + decimals


def show(amount: int, unit: Unit) -> str:
    """``amount`` (smallest unit) in ``unit``'s own words: ``−35 h 30 min``, ``EUR 12.50``,
    ``4 jars of honey``."""
    if unit.code == HOURS:
        return hours(amount)
    if unit.scale:
        return f"{unit.code} {number(amount, unit.scale)}"
    noun = unit.name[:1].lower() + unit.name[1:] if unit.name != unit.code else unit.code
    return f"{number(amount, 0)} {noun}"
