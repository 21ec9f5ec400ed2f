"""Geometry of the report's inline SVG charts: the templates only draw what this computes.

Every chart is a set of horizontal bars scaled to the largest value; labels are plain text that
the template escapes. Colours and type sizes are written on the SVG elements themselves, not
left to the page's stylesheet: WeasyPrint draws inline SVG without the document's CSS, so a bar
coloured by a class prints black in the PDF (and its labels at the default 16 px)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 110
BAR_HEIGHT = 16
GAP = 6
FONT_SIZE = 9
"""Chart text in SVG user units: smaller than the 10 pt tables, at the chart's natural width."""
LABEL_CHARS = 30
"""The most characters of a label that fit ``LABEL_WIDTH`` at ``FONT_SIZE``; a longer one (an
account's name may hold 200) is cut with "…", whole in the table beside the chart."""


def fit(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


COLOURS: dict[str, str] = {
    "earned": "#2f6f5e",
    "external": "#d89b2b",
    "expense": "#b0483f",
    "hours": "#3c6aa8",
}
"""Fill of each series (CSS class ``kind``), in the SVG and in the legend's keys."""


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    text: str
    y: int
    width: int
    kind: str
    """CSS class of the bar: its series."""

    @property
    def colour(self) -> str:
        return COLOURS[self.kind]


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    width: int
    height: int
    bar_x: int
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...]
    """(kind, label) of each series."""
    font_size: int = FONT_SIZE

    @property
    def keys(self) -> tuple[tuple[str, str], ...]:
        """(colour, label) of each series, for the legend."""
        return tuple((COLOURS[kind], label) for kind, label in self.legend)


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
            bars.append(Bar(fit(label) if index == 0 else "", render(value), y, width, kind))
            y += BAR_HEIGHT + 2
        y += GAP
    return Chart(title, WIDTH, max(y, 2 * GAP), LABEL_WIDTH, tuple(bars), tuple(legend))
