"""The report's HTML page as a PDF (WeasyPrint). The page is self-contained (inline CSS and SVG),
so the URL fetcher refuses every fetch: no network, no ``file://``, no ``data:``. A refused
resource is left out of the PDF (WeasyPrint logs a warning) rather than failing the report."""

from __future__ import annotations

from typing import Any, NoReturn

import weasyprint
from weasyprint.urls import URLFetcher

from reports.render.html import render_html
from reports.values import SustainabilityReport


class FetchRefused(Exception):
    pass


class RefuseEveryFetch(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's fetcher interface (a ``URLFetcher`` whose ``fetch`` we override), allowing
    no protocol at all."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)

    def fetch(self, url: str, headers: Any = None) -> NoReturn:
        raise FetchRefused(f"the report fetches nothing: {url[:80]}")


def render_pdf(report: SustainabilityReport) -> bytes:
    document = weasyprint.HTML(string=render_html(report), url_fetcher=RefuseEveryFetch())
    pdf: bytes = document.write_pdf()
    return pdf
