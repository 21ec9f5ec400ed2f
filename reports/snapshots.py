"""Periodic snapshots: at each period close the report of the closed month, quarter and year is
stored once, with its content and fingerprint, and served in every form from that content.

Taking a snapshot of a period that has one is refused (``snapshot_exists``): a later change to
the books of a closed period shows as a report whose fingerprint differs from the snapshot's, and
never rewrites it."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from reports.period import Period

REPORT = "sustainability"


def closed_periods(today: date) -> list[Period]:
    """The month, quarter and year that most recently closed before ``today``."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    month = Period(last_month_end.replace(day=1), last_month_end)
    quarter_index = (today.month - 1) // 3  # the current quarter, 0-based
    year, quarter = (today.year, quarter_index) if quarter_index else (today.year - 1, 4)
    quarter_start = date(year, 3 * quarter - 2, 1)
    quarter_end_month = 3 * quarter
    quarter_end = date(year, quarter_end_month, calendar.monthrange(year, quarter_end_month)[1])
    last_year = today.year - 1
    return [
        month,
        Period(quarter_start, quarter_end),
        Period(date(last_year, 1, 1), date(last_year, 12, 31)),
    ]
