"""The one clock: use cases take a ``Clock`` so that tests can stop or move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Tells the current time, timezone-aware in UTC."""


def utc_now() -> datetime:
    return datetime.now(UTC)
