"""What the member page shows: one member's hours this month, the community's month, and the
directory of names a member may see.

A member may see the names of their own community's members (to say whom they helped) and
nothing else of theirs; the hours of a month count confirmed exchanges by their effective date,
as the sustainability report counts them: not those undone by a reversal dated by the month's
end.

Each figure asks the store for what it shows, so a page costs the same after years of history:
a month's figures read that month's exchanges (by effective date, ``Ledger.list_entries``), the
latest exchanges are read newest first. The community's month still pages through the month's
exchanges: a report query should replace it when a community records many thousands a month.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from ledger.books.service import Ledger
from ledger.timebank.exchanges import Exchange, Exchanges, ExchangeStatus

_PAGE: Final = 500


@dataclass(frozen=True, slots=True)
class MemberMonth:
    """Minutes of confirmed exchanges one member took part in during a calendar month."""

    given_minutes: int
    received_minutes: int


@dataclass(frozen=True, slots=True)
class CommunityMonth:
    """The community's confirmed exchanges of a calendar month."""

    minutes_exchanged: int
    active_members: int
    """Members who gave or received in a confirmed exchange of the month."""


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    member_id: uuid.UUID
    name: str


@dataclass(frozen=True, slots=True)
class Month:
    """The calendar month of a day, as effective dates from ``first`` up to ``next_first``."""

    first: date
    next_first: date

    @property
    def last(self) -> date:
        return self.next_first - timedelta(days=1)

    @classmethod
    def of(cls, day: date) -> Month:
        first = day.replace(day=1)
        if first.month == 12:
            return cls(first, first.replace(year=first.year + 1, month=1))
        return cls(first, first.replace(month=first.month + 1))


class MemberOverview:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._exchanges = Exchanges(ledger)
        # The community's figures need not be fresher than the request: a replica may serve
        # them (``Ledger.replica_view``); the member's own figures stay on the primary.
        self._community_exchanges = Exchanges(ledger.replica_view)

    async def directory(self, community_id: uuid.UUID) -> list[DirectoryEntry]:
        """Every member's id and name, by name."""
        found: list[DirectoryEntry] = []
        after: uuid.UUID | None = None
        while True:
            page = await self._ledger.list_members(community_id, after=after, limit=_PAGE)
            found.extend(DirectoryEntry(member.id, member.name) for member in page)
            if len(page) < _PAGE:
                return sorted(found, key=lambda entry: (entry.name.casefold(), entry.member_id))
            after = page[-1].id

    async def member_month(
        self, community_id: uuid.UUID, member_id: uuid.UUID, day: date
    ) -> MemberMonth:
        given = received = 0
        month = Month.of(day)
        async for exchange in _paged(
            self._exchanges, community_id, member_id, ExchangeStatus.CONFIRMED, month
        ):
            if exchange.provider_member_id == member_id:
                given += exchange.minutes
            else:
                received += exchange.minutes
        return MemberMonth(given, received)

    async def community_month(self, community_id: uuid.UUID, day: date) -> CommunityMonth:
        minutes = 0
        active: set[uuid.UUID] = set()
        month = Month.of(day)
        async for exchange in _paged(
            self._community_exchanges, community_id, None, ExchangeStatus.CONFIRMED, month
        ):
            minutes += exchange.minutes
            active.update((exchange.provider_member_id, exchange.receiver_member_id))
        return CommunityMonth(minutes, len(active))

    async def recent(
        self, community_id: uuid.UUID, member_id: uuid.UUID, count: int
    ) -> tuple[list[Exchange], list[Exchange]]:
        """The member's latest ``count`` exchanges (newest first), and the pending ones that wait
        for them to confirm or decline (oldest first)."""
        latest = await self._exchanges.list_exchanges(
            community_id, member_id=member_id, limit=count, newest_first=True
        )
        to_answer = [
            exchange
            async for exchange in _paged(
                self._exchanges, community_id, member_id, ExchangeStatus.PENDING
            )
            if exchange.answerable_by(member_id)
        ]
        return list(latest), to_answer


async def _paged(
    exchanges: Exchanges,
    community_id: uuid.UUID,
    member_id: uuid.UUID | None,
    status: ExchangeStatus,
    month: Month | None = None,
) -> AsyncIterator[Exchange]:
    """Every exchange of the filters, oldest recorded first, a page at a time."""
    after: uuid.UUID | None = None
    while True:
        page = await exchanges.list_exchanges(
            community_id,
            member_id=member_id,
            status=status,
            after=after,
            limit=_PAGE,
            effective_from=None if month is None else month.first,
            effective_before=None if month is None else month.next_first,
            not_reversed_by=None if month is None else month.last,
        )
        for exchange in page:
            yield exchange
        if len(page) < _PAGE:
            return
        after = page[-1].id
