"""The reports' use cases, as the API and the CLI call them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ledger.model import Community
from reports.period import Period
from reports.sustainability import ReadUnits, ReportRequest, sustainability_report
from reports.timebank import Thresholds
from reports.values import SustainabilityReport


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Reports:
    def __init__(self, units: ReadUnits, clock: Callable[[], datetime] = _utc_now) -> None:
        self._units = units
        self._clock = clock

    async def sustainability(
        self, community: Community, period: Period, thresholds: Thresholds | None = None
    ) -> SustainabilityReport:
        """The period's sustainability report, read in one snapshot of the ledger."""
        request = ReportRequest(community, period, thresholds or Thresholds())
        return await sustainability_report(self._units, request, self._clock)
