"""The sustainability report of a period, as JSON and as an HTML page, a PDF, an XLSX workbook
and one CSV file per section — the same report in every form.

The report names members (burnout and support watch), so it needs an API key with the ``read``
scope or more; member tokens are refused (403). The PDF and the workbook are built in a worker
thread: WeasyPrint's layout is CPU-bound and would stall the event loop."""

from __future__ import annotations

import asyncio
import enum
from datetime import date
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import PathParameter, QueryParameter

from api.auth import requires
from api.openapi import COMMUNITY, problems
from api.state import Services
from ledger.access import Scope
from ledger.model import Community
from reports.period import Period
from reports.render.csv import render_csv
from reports.render.html import render_html
from reports.render.pdf import render_pdf
from reports.render.tables import SECTIONS
from reports.render.xlsx import render_xlsx
from reports.timebank import Thresholds
from reports.values import SustainabilityReport

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"

From = Annotated[
    date, QueryParameter(name="from", description="first day of the period (YYYY-MM-DD)")
]
To = Annotated[date, QueryParameter(name="to", description="last day of the period (YYYY-MM-DD)")]
BurnoutMinutes = Annotated[
    int,
    QueryParameter(
        ge=0,
        le=24 * 60 * 366,
        description="burnout watch: members who gave more minutes than this in the period",
    ),
]
SupportPercent = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=100,
        description="support watch: members who used at least this % of their negative limit",
    ),
]
_DEFAULTS = Thresholds()

CsvFile = enum.StrEnum(  # type: ignore[misc]
    "CsvFile", {name.replace("-", "_").upper(): f"{name}.csv" for name in SECTIONS}
)
"""The CSV file of each report section, e.g. ``income-statement.csv``."""


async def provide_report(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    *,
    start: From,
    end: To,
    burnout_minutes: BurnoutMinutes = _DEFAULTS.burnout_minutes,
    support_watch_percent: SupportPercent = _DEFAULTS.support_watch_percent,
) -> SustainabilityReport:
    thresholds = Thresholds(burnout_minutes, support_watch_percent)
    reports = Services.of(request).reports
    return await reports.sustainability(community, Period.of(start, end), thresholds)


def _filename(report: SustainabilityReport, suffix: str) -> str:
    label = f"{report.period.start}_{report.period.end}"
    return f"sustainability-{report.community_slug}-{label}{suffix}"


def _download(content: bytes | str, media_type: str, filename: str) -> Response[bytes | str]:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_COMMON: dict[str, Any] = {
    "responses": problems(*COMMUNITY, 403, codes=["invalid_input"]),
    "guards": [requires(Scope.READ)],
    "tags": ["reports"],
    "dependencies": {"report": Provide(provide_report)},
}


@get(
    "/reports/sustainability",
    summary="The period's sustainability report (financial, resilience, self-sufficiency, "
    "time-bank health, glossary)",
    description="Amounts are integers in each commodity's smallest unit (minutes for HOURS); "
    "ratios are decimal strings with four places. The `glossary` defines every figure; "
    "`fingerprint` identifies the ledger state the report was built from.",
    **_COMMON,
)
async def sustainability(report: NamedDependency[SustainabilityReport]) -> SustainabilityReport:
    return report


@get(
    "/reports/sustainability.html",
    summary="The sustainability report as a printable HTML page with charts",
    media_type=MediaType.HTML,
    **_COMMON,
)
async def sustainability_html(report: NamedDependency[SustainabilityReport]) -> str:
    return render_html(report)


@get(
    "/reports/sustainability.pdf",
    summary="The sustainability report as a PDF",
    media_type=PDF,
    **_COMMON,
)
async def sustainability_pdf(
    report: NamedDependency[SustainabilityReport],
) -> Response[bytes | str]:
    content = await asyncio.to_thread(render_pdf, report)
    return _download(content, PDF, _filename(report, ".pdf"))


@get(
    "/reports/sustainability.xlsx",
    summary="The sustainability report as an XLSX workbook, one sheet per section",
    media_type=XLSX,
    **_COMMON,
)
async def sustainability_xlsx(
    report: NamedDependency[SustainabilityReport],
) -> Response[bytes | str]:
    content = await asyncio.to_thread(render_xlsx, report)
    return _download(content, XLSX, _filename(report, ".xlsx"))


@get(
    "/reports/sustainability/{file:str}",
    summary="One section of the sustainability report as CSV",
    media_type=CSV,
    **_COMMON,
)
async def sustainability_csv(
    report: NamedDependency[SustainabilityReport],
    file: Annotated[CsvFile, PathParameter(description="the section's file, e.g. pending.csv")],
) -> Response[bytes | str]:
    section = str(file.value).removesuffix(".csv")
    content = render_csv(SECTIONS[section](report))
    return _download(content, CSV, _filename(report, f"-{section}.csv"))


COMMUNITY_HANDLERS = [
    sustainability,
    sustainability_html,
    sustainability_pdf,
    sustainability_xlsx,
    sustainability_csv,
]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
