"""The report's HTML page as a PDF (WeasyPrint). The page is self-contained (inline CSS and SVG),
so the URL fetcher refuses every fetch: no network, no ``file://``, no ``data:`` surprises."""

from __future__ import annotations

from typing import NoReturn

import weasyprint

from reports.render.html import render_html
from reports.values import SustainabilityReport


class FetchRefused(Exception):
    pass


def refuse_every_fetch(url: str, *_: object, **__: object) -> NoReturn:
    raise FetchRefused(f"the report fetches nothing: {url[:80]}")


def render_pdf(report: SustainabilityReport) -> bytes:
    document = weasyprint.HTML(string=render_html(report), url_fetcher=refuse_every_fetch)
    pdf: bytes = document.write_pdf()
    return pdf
