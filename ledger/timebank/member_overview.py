"""What the member page shows: one member's hours this month, the community's month, and the
directory of names a member may see.

A member may see the names of their own community's members (to say whom they helped) and
nothing else of theirs; the hours of a month count confirmed exchanges by their effective date.

The month figures page through the community's exchanges: fine for a time-bank of hundreds of
members; a report query should replace them when a community records many thousands a month.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
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


def in_month(exchange: Exchange, day: date) -> bool:
    effective = exchange.effective_date
    return (effective.year, effective.month) == (day.year, day.month)


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

    async def exchanges_of(
        self,
        community_id: uuid.UUID,
        member_id: uuid.UUID | None,
        status: ExchangeStatus | None = None,
    ) -> AsyncIterator[Exchange]:
        """The exchanges ``member_id`` took part in (all when None), oldest recorded first."""
        async for exchange in _paged(self._exchanges, community_id, member_id, status):
            yield exchange

    async def member_month(
        self, community_id: uuid.UUID, member_id: uuid.UUID, day: date
    ) -> MemberMonth:
        given = received = 0
        async for exchange in self.exchanges_of(community_id, member_id, ExchangeStatus.CONFIRMED):
            if not in_month(exchange, day):
                continue
            if exchange.provider_member_id == member_id:
                given += exchange.minutes
            else:
                received += exchange.minutes
        return MemberMonth(given, received)

    async def community_month(self, community_id: uuid.UUID, day: date) -> CommunityMonth:
        minutes = 0
        active: set[uuid.UUID] = set()
        confirmed = _paged(self._community_exchanges, community_id, None, ExchangeStatus.CONFIRMED)
        async for exchange in confirmed:
            if in_month(exchange, day):
                minutes += exchange.minutes
                active.update((exchange.provider_member_id, exchange.receiver_member_id))
        return CommunityMonth(minutes, len(active))

    async def recent(
        self, community_id: uuid.UUID, member_id: uuid.UUID, count: int
    ) -> tuple[list[Exchange], list[Exchange]]:
        """The member's latest ``count`` exchanges (newest first), and the pending ones that wait
        for them to confirm or decline (oldest first)."""
        latest: list[Exchange] = []
        to_answer: list[Exchange] = []
        async for exchange in self.exchanges_of(community_id, member_id):
            latest.append(exchange)
            del latest[:-count]
            if exchange.status is ExchangeStatus.PENDING and exchange.answerable_by(member_id):
                to_answer.append(exchange)
        return latest[::-1], to_answer


async def _paged(
    exchanges: Exchanges,
    community_id: uuid.UUID,
    member_id: uuid.UUID | None,
    status: ExchangeStatus | None,
) -> AsyncIterator[Exchange]:
    after: uuid.UUID | None = None
    while True:
        page = await exchanges.list_exchanges(
            community_id, member_id=member_id, status=status, after=after, limit=_PAGE
        )
        for exchange in page:
            yield exchange
        if len(page) < _PAGE:
            return
        after = page[-1].id
