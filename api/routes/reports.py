"""The sustainability report of a period, as JSON and in the printable and tabular forms.

The report names members (burnout and support watch), so it needs an API key with the ``read``
scope or more; member tokens are refused (403)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth import requires
from api.openapi import COMMUNITY, problems
from api.state import Services
from ledger.access import Scope
from ledger.model import Community
from reports.period import Period
from reports.timebank import Thresholds
from reports.values import SustainabilityReport

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
_PROBLEMS = problems(*COMMUNITY, 403, codes=["invalid_input"])
_DEFAULTS = Thresholds()


async def _report(
    request: Request[Any, Any, Any],
    community: Community,
    period: tuple[date, date],
    thresholds: Thresholds,
) -> SustainabilityReport:
    reports = Services.of(request).reports
    return await reports.sustainability(community, Period.of(*period), thresholds)


@get(
    "/reports/sustainability",
    summary="The period's sustainability report (financial, resilience, self-sufficiency, "
    "time-bank health, glossary)",
    description="Amounts are integers in each commodity's smallest unit (minutes for HOURS); "
    "ratios are decimal strings with four places. The `glossary` defines every figure; "
    "`fingerprint` identifies the ledger state the report was built from.",
    responses=_PROBLEMS,
    guards=[requires(Scope.READ)],
    tags=["reports"],
)
async def sustainability(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    *,
    start: From,
    end: To,
    burnout_minutes: BurnoutMinutes = _DEFAULTS.burnout_minutes,
    support_watch_percent: SupportPercent = _DEFAULTS.support_watch_percent,
) -> SustainabilityReport:
    thresholds = Thresholds(burnout_minutes, support_watch_percent)
    return await _report(request, community, (start, end), thresholds)


COMMUNITY_HANDLERS = [sustainability]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
