"""The sustainability report of a period, as JSON and as an HTML page, a PDF, an XLSX workbook
and one CSV file per section — the same report in every form.

The report names members (burnout and support watch), so it needs an API key with the ``read``
scope or more; member tokens are refused (403). The PDF and the workbook are built in a worker
thread: WeasyPrint's layout is CPU-bound and would stall the event loop."""

from __future__ import annotations

import asyncio
import enum
import uuid
from datetime import date
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.http.common.auth import principal_of, requires
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.schemas import Page, SnapshotCreate, SnapshotOut
from ledger.access.principals import Scope
from ledger.kernel.model import Community
from reports.period import Period
from reports.render.csv import render_csv
from reports.render.html import render_html
from reports.render.pdf import render_pdf
from reports.render.tables import SECTIONS
from reports.render.xlsx import render_xlsx
from reports.service import Reports
from reports.timebank import Thresholds
from reports.values import SustainabilityReport

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
"""Litestar adds ``; charset=utf-8`` to a text type itself: naming it here sent it twice."""

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
    community: NamedDependency[Community],
    reports: NamedDependency[Reports],
    *,
    start: From,
    end: To,
    burnout_minutes: BurnoutMinutes = _DEFAULTS.burnout_minutes,
    support_watch_percent: SupportPercent = _DEFAULTS.support_watch_percent,
) -> SustainabilityReport:
    thresholds = Thresholds(burnout_minutes, support_watch_percent)
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


async def provide_snapshot(
    community: NamedDependency[Community],
    reports: NamedDependency[Reports],
    snapshot_id: Annotated[uuid.UUID, PathParameter(description="the snapshot's id")],
) -> SustainabilityReport:
    return await reports.snapshot(community, snapshot_id)


def _forms(
    path: str, name: str, provider: Provide, what: str, codes: list[str]
) -> list[HTTPRouteHandler]:
    """The handlers of one report in every form: JSON at ``path``, ``.html``, ``.pdf`` and
    ``.xlsx`` beside it and ``{path}/{section}.csv``, named ``name`` and ``name_<form>`` (their
    operationIds, ``sustainabilityReportPdf``)."""
    common: dict[str, Any] = {
        "responses": problems(*COMMUNITY, 403, codes=codes),
        "guards": [requires(Scope.READ)],
        "tags": ["reports"],
        "dependencies": {"report": provider},
    }

    @get(path, summary=f"{what} (financial, resilience, self-sufficiency, time-bank health, "
         "glossary)", description=_JSON_DESCRIPTION, name=name, **common)  # fmt: skip
    async def as_json(report: NamedDependency[SustainabilityReport]) -> SustainabilityReport:
        return report

    @get(f"{path}.html", summary=f"{what} as a printable HTML page with charts",
         media_type=MediaType.HTML, name=f"{name}_html", **common)  # fmt: skip
    async def as_html(report: NamedDependency[SustainabilityReport]) -> str:
        return render_html(report)

    @get(f"{path}.pdf", summary=f"{what} as a PDF", media_type=PDF, name=f"{name}_pdf", **common)
    async def as_pdf(report: NamedDependency[SustainabilityReport]) -> Response[bytes | str]:
        content = await asyncio.to_thread(render_pdf, report)
        return _download(content, PDF, _filename(report, ".pdf"))

    @get(f"{path}.xlsx", summary=f"{what} as an XLSX workbook, one sheet per section",
         media_type=XLSX, name=f"{name}_xlsx", **common)  # fmt: skip
    async def as_xlsx(report: NamedDependency[SustainabilityReport]) -> Response[bytes | str]:
        content = await asyncio.to_thread(render_xlsx, report)
        return _download(content, XLSX, _filename(report, ".xlsx"))

    @get(f"{path}/{{file:str}}", summary=f"One section of {what.lower()} as CSV",
         media_type=CSV, name=f"{name}_csv", **common)  # fmt: skip
    async def as_csv(
        report: NamedDependency[SustainabilityReport],
        file: Annotated[CsvFile, PathParameter(description="the section's file, e.g. pending.csv")],
    ) -> Response[bytes | str]:
        section = str(file.value).removesuffix(".csv")
        content = render_csv(SECTIONS[section](report))
        return _download(content, CSV, _filename(report, f"-{section}.csv"))

    return [as_json, as_html, as_pdf, as_xlsx, as_csv]


_JSON_DESCRIPTION = (
    "Amounts are integers in each commodity's smallest unit (minutes for HOURS); ratios are "
    "decimal strings with four places. The `glossary` defines every figure; `fingerprint` "
    "identifies the ledger state the report was built from."
)


@post(
    "/reports/snapshots",
    summary="Store the sustainability report of a closed period, once",
    description="A period's snapshot is never overwritten: taking it again is `snapshot_exists`.",
    status_code=HTTP_201_CREATED,
    responses=problems(
        *COMMUNITY, 403, 413, codes=["invalid_input", "snapshot_exists", *IDEMPOTENT]
    ),
    guards=[requires(Scope.TREASURER)],
    tags=["reports"],
)
async def take_snapshot(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    reports: NamedDependency[Reports],
    data: JSONBody[SnapshotCreate],
    idempotency_key: IdempotencyHeader = None,
) -> SnapshotOut:
    key = key_of(principal_of(request), idempotency_key)
    return SnapshotOut.of(await reports.take_snapshot(community, Period.parse(data.period), key))


@get(
    "/reports/snapshots",
    summary="The stored report snapshots, latest period first",
    responses=problems(*COMMUNITY, 403),
    guards=[requires(Scope.READ)],
    tags=["reports"],
)
async def list_snapshots(
    community: NamedDependency[Community], reports: NamedDependency[Reports]
) -> Page[SnapshotOut]:
    # A few snapshots a month at most: one page holds years of them.
    found = await reports.list_snapshots(community)
    return Page([SnapshotOut.of(row) for row in found], None)


COMMUNITY_HANDLERS = [
    *_forms(
        "/reports/sustainability",
        "sustainability_report",
        Provide(provide_report),
        "The period's sustainability report",
        ["invalid_input"],
    ),
    take_snapshot,
    list_snapshots,
    *_forms(
        "/reports/snapshots/{snapshot_id:uuid}/sustainability",
        "snapshot_report",
        Provide(provide_snapshot),
        "A stored sustainability report",
        ["snapshot_not_found"],
    ),
]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
