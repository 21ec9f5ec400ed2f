"""The report as a treasurer sees it on paper: the PDF rendered to an image (pypdfium2), so that
what is checked is what prints, not the HTML it came from."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from reports.period import Period
from reports.render.charts import COLOURS
from reports.render.pdf import render_pdf
from reports.sustainability import ReportRequest, sustainability_report
from reports.timebank import Thresholds
from reports.values import SustainabilityReport
from tests.reports.ledgers import fixed_books

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


async def _report(engine: AsyncEngine) -> SustainabilityReport:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    request = ReportRequest(books.community, Period.parse("2026-Q3"), Thresholds())
    return await sustainability_report(
        SqlUnitOfWorkFactory(engine), connection_of, request, lambda: NOW
    )


def _pages(pdf: bytes) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(pdf)
    return [
        document[index].render(scale=1).to_pil().convert("RGB") for index in range(len(document))
    ]


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _count(pages: list[Image.Image], rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    """Pixels of about ``rgb`` over all pages."""
    found = 0
    for page in pages:
        for count, pixel in page.getcolors(maxcolors=1 << 24) or []:
            assert isinstance(pixel, tuple)
            if all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb, strict=True)):
                found += count
    return found


async def test_the_pdf_charts_keep_their_colours(engine: AsyncEngine) -> None:
    pages = _pages(render_pdf(await _report(engine)))
    # Each series draws bars in its colour (not black), far more of it than its legend's key.
    for kind in ("earned", "external", "expense", "hours"):
        assert _count(pages, _rgb(COLOURS[kind])) > 400, kind
