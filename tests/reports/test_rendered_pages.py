"""The report as a treasurer sees it: the PDF rendered to an image (pypdfium2), so that what is
checked is what prints, not the HTML it came from; the HTML page in headless Chromium at a
phone's width."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image
from playwright.async_api import async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from reports.period import Period
from reports.render.charts import COLOURS
from reports.render.html import render_html
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


CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()


async def test_the_html_report_reads_at_390_px(engine: AsyncEngine) -> None:
    if not HAVE_CHROMIUM:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI=true: the page test must run")
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium)")
    html = render_html(await _report(engine))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--disable-dev-shm-usage"]
        )
        page = await browser.new_page(viewport={"width": 390, "height": 800})
        await page.set_content(html)
        width = await page.evaluate("document.documentElement.scrollWidth")
        await browser.close()
    assert width <= 390, "the page scrolls sideways on a phone"


async def test_no_pdf_page_prints_into_its_right_margin(engine: AsyncEngine) -> None:
    # Months that are no quarter carry long labels ("2026-06 – 2026-08"): the self-sufficiency
    # table, a column per period, once ran 15 mm past the A4 page's right margin.
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    months = Period.of(date(2026, 6, 1), date(2026, 8, 31))
    request = ReportRequest(books.community, months, Thresholds())
    report = await sustainability_report(
        SqlUnitOfWorkFactory(engine), connection_of, request, lambda: NOW
    )
    assert report.period.label == "2026-06 – 2026-08"
    for number, page in enumerate(_pages(render_pdf(report)), start=1):
        # A4 at 1 px a point: 595 × 842. The margins are 14 mm (40 pt) each side and 16 mm
        # (45 pt) top and bottom, where the page number prints.
        width, height = page.size
        margin = page.crop((width - 38, 46, width, height - 46))
        assert margin.getextrema() == ((255, 255),) * 3, f"page {number} prints into the margin"
