"""Report periods: an inclusive range of days, and the periods a report compares it with.

A period of whole calendar months (a month, a quarter, a year, or any run of months) moves by
months, so the previous quarter of 2026-Q3 is 2026-Q2 and a year earlier is 2025-Q3; any other
range moves by its length in days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.kernel import errors

DAYS_MAX = 366 * 10
"""Longest period a report covers: ten years."""

YEAR_MIN = 1900
YEAR_MAX = 9998
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``start`` to ``end``, both included."""

    start: date
    end: date

    @staticmethod
    def of(start: date, end: date) -> Period:
        if start > end:
            raise errors.InvalidInput(f"the period starts ({start}) after it ends ({end})")
        if (end - start).days >= DAYS_MAX:
            raise errors.InvalidInput(f"a report covers at most {DAYS_MAX} days")
        # The report also reads 3 periods and a year before this one.
        if start.year < YEAR_MIN or end.year > YEAR_MAX:
            raise errors.InvalidInput(f"the period must lie within the years {YEAR_MIN}–{YEAR_MAX}")
        return Period(start, end)

    @staticmethod
    def parse(text: str) -> Period:
        """``2026-Q3``, ``2026-09`` or ``2026``."""
        if match := _QUARTER.match(text):
            year, quarter = int(match[1]), int(match[2])
            return Period.of(date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter))
        if match := _MONTH.match(text):
            year, month = int(match[1]), int(match[2])
            return Period.of(date(year, month, 1), _month_end(year, month))
        if match := _YEAR.match(text):
            year = int(match[1])
            return Period.of(date(year, 1, 1), date(year, 12, 31))
        raise errors.InvalidInput(f"{text!r} is no period: use 2026-Q3, 2026-09 or 2026")

    @property
    def months(self) -> int | None:
        """The number of calendar months, when the period is made of whole months."""
        if self.start.day != 1 or self.end != _month_end(self.end.year, self.end.month):
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        months = self.months
        if months == 12 and self.start.month == 1:
            return f"{self.start.year}"
        if months == 3 and self.start.month % 3 == 1:
            return f"{self.start.year}-Q{self.start.month // 3 + 1}"
        if months == 1:
            return f"{self.start:%Y-%m}"
        if months is not None:
            return f"{self.start:%Y-%m} – {self.end:%Y-%m}"
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` lengths earlier (``steps`` > 0) or later."""
        months = self.months
        if months is not None:
            year, month = _add_months(self.start.year, self.start.month, -steps * months)
            end_year, end_month = _add_months(year, month, months - 1)
            return Period(date(year, month, 1), _month_end(end_year, end_month))
        delta = timedelta(days=steps * self.days)
        return Period(self.start - delta, self.end - delta)

    @property
    def previous(self) -> Period:
        return self.shifted(1)

    @property
    def year_earlier(self) -> Period:
        months = self.months
        if months is not None:
            return Period(*self._months_back(12, months))
        # 29 February a year earlier is 28 February.
        return Period(_year_back(self.start), _year_back(self.end))

    def _months_back(self, back: int, months: int) -> tuple[date, date]:
        year, month = _add_months(self.start.year, self.start.month, -back)
        end_year, end_month = _add_months(year, month, months - 1)
        return date(year, month, 1), _month_end(end_year, end_month)

    def trailing_months(self, months: int) -> Period:
        """The ``months`` calendar months ending with the period's last month (for burn rates)."""
        year, month = _add_months(self.end.year, self.end.month, 1 - months)
        return Period(date(year, month, 1), _month_end(self.end.year, self.end.month))


def _year_back(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)
