"""Geometry of the report's inline SVG charts: the templates only draw what this computes.

Every chart is a set of horizontal bars scaled to the largest value; labels are plain text that
the template escapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 110
BAR_HEIGHT = 16
GAP = 6


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    text: str
    y: int
    width: int
    kind: str
    """CSS class of the bar: its series."""


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    width: int
    height: int
    bar_x: int
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...]
    """(kind, label) of each series."""


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    render: Callable[[int], str],
    legend: Sequence[tuple[str, str]] = (),
) -> Chart:
    """Rows of one or more bars (``(kind, value)``), each labelled; negative values draw as 0."""
    values = [value for _, series in rows for _, value in series]
    top = max([1, *values])
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars, y = [], GAP
    for label, series in rows:
        for index, (kind, value) in enumerate(series):
            width = max(0, value) * span // top
            bars.append(Bar(label if index == 0 else "", render(value), y, width, kind))
            y += BAR_HEIGHT + 2
        y += GAP
    return Chart(title, WIDTH, max(y, 2 * GAP), LABEL_WIDTH, tuple(bars), tuple(legend))
