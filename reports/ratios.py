"""Exact ratios and inequality measures from integer amounts; no floats.

Ratios are ``Decimal`` values rounded half-even to four places (``0.4231`` is 42.31 %), and
``None`` where the denominator is zero (a share of nothing is undefined, not 0)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

PLACES = Decimal("0.0001")


def ratio(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(PLACES, ROUND_HALF_EVEN)


def gini(values: Sequence[int]) -> Decimal | None:
    """The Gini coefficient of non-negative amounts: 0 when everyone gives the same, towards 1
    when one gives everything. Mean absolute difference over twice the mean, computed exactly as
    Σ (2i − n − 1)·xᵢ / (n · Σ x) with x sorted ascending and i from 1; ``None`` when the total
    is zero or there is nobody."""
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    if n == 0 or total == 0:
        return None
    weighted = sum((2 * i - n - 1) * x for i, x in enumerate(ordered, start=1))
    return ratio(weighted, n * total)


def top_share(values: Sequence[int], fraction_percent: int = 10) -> tuple[int, Decimal | None]:
    """How many make up the top ``fraction_percent`` % (at least one, rounded up) and their share
    of the total."""
    if not values:
        return 0, None
    count = max(1, -(-len(values) * fraction_percent // 100))
    top = sorted(values, reverse=True)[:count]
    return count, ratio(sum(top), sum(values))
