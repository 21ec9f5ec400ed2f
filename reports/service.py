"""The reports' use cases, as the API and the CLI call them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Protocol

import msgspec

from ledger.audit import chain as audit
from ledger.books.envelope import WriteEnvelope
from ledger.books.ports import UnitOfWork as BooksUnitOfWork
from ledger.books.ports import UnitOfWorkFactory as BooksUnitOfWorkFactory
from ledger.kernel import errors
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.model import Community, IdempotencyKey, new_id
from reports.errors import SnapshotExists, SnapshotNotFound
from reports.period import Period
from reports.queries import ConnectionOf
from reports.queries import snapshots as stored
from reports.queries.journal import DateRange, first_date
from reports.queries.snapshots import SnapshotRow
from reports.read_slots import ReadSlots
from reports.snapshots import REPORT, closed_periods
from reports.sustainability import ReportRequest, sustainability_report
from reports.timebank import Thresholds
from reports.values import SustainabilityReport


class AuditLog(Protocol):
    """What the reports write through the books' repository: the audit of a snapshot."""

    async def append_audit(self, community_id: uuid.UUID, event: audit.AuditEvent) -> None: ...


class Reports:
    """``units`` opens the ledger's units of work; the report queries run on the connection
    ``connection_of`` gives of each (``ledger.store.scoped.connection_of``; why a function and
    not a unit of work of their own: ``reports.queries``)."""

    def __init__(
        self,
        units: BooksUnitOfWorkFactory,
        connection_of: ConnectionOf,
        clock: Clock = utc_now,
        slots: ReadSlots | None = None,
    ) -> None:
        self._units = units
        self._connection_of = connection_of
        self._clock = clock
        self._envelope = WriteEnvelope(units, clock)
        self._slots = slots or ReadSlots.unbounded()

    async def sustainability(
        self, community: Community, period: Period, thresholds: Thresholds | None = None
    ) -> SustainabilityReport:
        """The period's sustainability report, read in one snapshot of the ledger."""
        request = ReportRequest(community, period, thresholds or Thresholds())
        async with self._slots.held():  # one of a few heavy reads at once, each bounded
            return await sustainability_report(
                self._units, self._connection_of, request, self._clock
            )

    async def take_snapshot(
        self, community: Community, period: Period, key: IdempotencyKey | None = None
    ) -> SnapshotRow:
        """Stores the report of a closed period (default thresholds); ``snapshot_exists`` if the
        period has one — it is never overwritten. Under ``key``, a retry answers the first
        snapshot again (``ledger.books.envelope``)."""
        if period.end >= self._clock().date():
            raise errors.InvalidInput(f"the period {period.label} has not closed yet")
        report = await self.sustainability(community, period)
        row = SnapshotRow(
            new_id(), REPORT, period.start, period.end, report.fingerprint, report.generated_at
        )

        async def work(uow: BooksUnitOfWork) -> SnapshotRow:
            if not await stored.insert(
                self._connection_of(uow), community.id, row, msgspec.json.encode(report)
            ):
                raise SnapshotExists(f"the period {period.label} has a snapshot already")
            return row

        request = {"report": REPORT, "period": period.label}
        return await self._envelope.write(
            community.id, "take_snapshot", request, key, work=work, result_type=SnapshotRow
        )

    async def take_due_snapshots(self, community: Community, today: date) -> list[SnapshotRow]:
        """The snapshots of the month, quarter and year closed most recently, those missing."""
        taken = []
        for period in closed_periods(today):
            try:
                taken.append(await self.take_snapshot(community, period))
            except SnapshotExists:
                continue
        return taken

    async def take_all_due_snapshots(self, today: date) -> list[tuple[str, SnapshotRow]]:
        """The job at each period close: every community's missing snapshots of the closed
        month, quarter and year. Safe to run any number of times, from several processes."""
        async with self._units(write=False) as uow:
            found = await stored.communities(self._connection_of(uow))
        taken = []
        for community_id, slug, name, created_at in found:
            community = Community(community_id, slug, name, created_at)
            taken += [(slug, row) for row in await self.take_due_snapshots(community, today)]
        return taken

    async def first_entry_date(self, community: Community) -> date | None:
        """The earliest effective date of a posted entry (history may predate the community's
        creation: imports and back-dated entries), or None when the books are empty."""
        async with self._units(write=False) as uow:
            return await first_date(self._connection_of(uow), community.id, DateRange())

    async def list_snapshots(self, community: Community) -> list[SnapshotRow]:
        async with self._units(write=False) as uow:
            return await stored.list_all(self._connection_of(uow), community.id)

    async def snapshot(self, community: Community, snapshot_id: uuid.UUID) -> SustainabilityReport:
        """The report as it was stored."""
        async with self._units(write=False) as uow:
            content = await stored.content_of(self._connection_of(uow), community.id, snapshot_id)
        if content is None:
            raise SnapshotNotFound(f"snapshot {snapshot_id} does not exist")
        return msgspec.json.decode(content, type=SustainabilityReport)
