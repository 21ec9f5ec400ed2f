"""The PDF writer fetches nothing: every URL a page could name is refused, and the page still
renders without it."""

from __future__ import annotations

import pytest
import weasyprint

from reports.render.pdf import FetchRefused, RefuseEveryFetch


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "http://169.254.169.254/latest", "data:text/css,p{}"]
)
def test_the_fetcher_refuses_everything(url: str) -> None:
    with pytest.raises(FetchRefused):
        RefuseEveryFetch().fetch(url)


class _Recording(RefuseEveryFetch):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def fetch(self, url: str, headers: object = None) -> None:  # type: ignore[override]
        self.asked.append(url)
        super().fetch(url, headers)


def test_a_page_naming_resources_renders_without_them() -> None:
    fetcher = _Recording()
    html = (
        '<link rel="stylesheet" href="http://example.org/x.css">'
        '<img src="file:///etc/passwd"><p>still here</p>'
    )
    pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert pdf.startswith(b"%PDF")
    assert sorted(fetcher.asked) == ["file:///etc/passwd", "http://example.org/x.css"]
