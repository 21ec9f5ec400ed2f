"""Time-bank exchanges: a service one member gave another, recorded in hours.

An exchange *is* a journal entry of kind ``exchange``, created pending: it debits the receiver's
``HOURS`` account and credits the provider's by the minutes of the service (90 minutes given by
A to B debits B and credits A by 90), so it reserves against both members' limits at once. The
other side (or a steward) confirms it — the entry is posted — or declines it — the entry is
voided. The other side is the counterparty of the member who recorded it (so a member never
confirms what they recorded themselves, whichever side they named themselves), or the receiver
when no member recorded it (a key, an import). The provider, the receiver and the member who
recorded it are kept in the entry's metadata; the minutes are its postings.

Because an exchange is an ordinary entry, everything the ledger guarantees for entries holds:
limits (``limit_exceeded``), closed accounts, idempotency keys, completion exactly once
(``entry_not_pending``). Who may confirm is the caller's business: the view offers
``Exchange.involves`` and ``Exchange.answerable_by`` to decide it.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from ledger.books import rules
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import (
    Entry,
    EntryStatus,
    IdempotencyKey,
    Member,
    NewEntry,
    PostingSpec,
)

EXCHANGE_KIND: Final = "exchange"
MINUTES_MAX: Final = 24 * 60 * 31
"""Longest exchange: a month of round-the-clock help, in minutes."""
CATEGORY_MAX_CHARS: Final = 60
DESCRIPTION_MAX_CHARS: Final = rules.DESCRIPTION_MAX_CHARS


class ExchangeStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    """The entry is posted: the hours moved."""
    DECLINED = "declined"
    """The entry is voided: the reservation was released."""


_STATUS_OF = {
    EntryStatus.PENDING: ExchangeStatus.PENDING,
    EntryStatus.POSTED: ExchangeStatus.CONFIRMED,
    EntryStatus.VOIDED: ExchangeStatus.DECLINED,
}

_ENTRY_STATUS_OF = {exchange: entry for entry, exchange in _STATUS_OF.items()}


@dataclass(frozen=True, slots=True)
class Exchange:
    """The view of an exchange entry; ``id`` is the entry's id."""

    community_id: uuid.UUID
    id: uuid.UUID
    provider_member_id: uuid.UUID
    receiver_member_id: uuid.UUID
    minutes: int
    description: str
    category: str | None
    status: ExchangeStatus
    effective_date: date
    created_at: datetime
    completed_at: datetime | None
    """When it was confirmed or declined."""
    recorded_by_member_id: uuid.UUID | None = None
    """The member who recorded it (with their member token or on the member page); None when a
    key or an import did."""

    def involves(self, member_id: uuid.UUID | None) -> bool:
        return member_id is not None and member_id in (
            self.provider_member_id,
            self.receiver_member_id,
        )

    @property
    def answerer(self) -> uuid.UUID:
        """The member who confirms or declines it: the counterparty of whoever recorded it."""
        if self.recorded_by_member_id == self.receiver_member_id:
            return self.provider_member_id
        return self.receiver_member_id

    def answerable_by(self, member_id: uuid.UUID | None) -> bool:
        return member_id is not None and member_id == self.answerer

    @staticmethod
    def of(entry: Entry) -> Exchange:
        """The exchange an entry records; ``EntryNotFound`` when the entry is no exchange."""
        exchange = _exchange_or_none(entry)
        if exchange is None:
            raise not_found(entry.id)
        return exchange


def not_found(exchange_id: uuid.UUID) -> errors.EntryNotFound:
    """The error for an exchange that does not exist, or that the caller may not see."""
    return errors.EntryNotFound(f"exchange {exchange_id} does not exist")


def exchange_entry(
    provider: Member,
    receiver: Member,
    minutes: int,
    description: str,
    *,
    effective_date: date | None = None,
    category: str | None = None,
    recorded_by: uuid.UUID | None = None,
    pending: bool = True,
) -> NewEntry:
    """The entry of an exchange: ``minutes`` from the provider's HOURS account to the
    receiver's, pending until the receiver answers (``pending=False``: already confirmed, as
    the tests and benches write a history)."""
    return NewEntry(
        postings=(
            PostingSpec(receiver.hours_account_id, minutes),
            PostingSpec(provider.hours_account_id, -minutes),
        ),
        description=description,
        pending=pending,
        effective_date=effective_date,
        kind=EXCHANGE_KIND,
        metadata={
            "provider_member_id": str(provider.id),
            "receiver_member_id": str(receiver.id),
            "category": category,
            **({} if recorded_by is None else {"recorded_by_member_id": str(recorded_by)}),
        },
    )


def _exchange_or_none(entry: Entry) -> Exchange | None:
    if entry.kind != EXCHANGE_KIND:
        return None
    metadata = entry.metadata
    try:
        provider = uuid.UUID(metadata["provider_member_id"])
        receiver = uuid.UUID(metadata["receiver_member_id"])
        recorder = metadata.get("recorded_by_member_id")
        recorded_by = None if recorder is None else uuid.UUID(recorder)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    category = metadata.get("category")
    debits = [p.amount for p in entry.postings if p.amount > 0]
    if len(debits) != 1 or not isinstance(category, str | None):
        return None
    return Exchange(
        community_id=entry.community_id,
        id=entry.id,
        provider_member_id=provider,
        receiver_member_id=receiver,
        minutes=debits[0],
        description=entry.description,
        category=category,
        status=_STATUS_OF[entry.status],
        effective_date=entry.effective_date,
        created_at=entry.created_at,
        completed_at=entry.completed_at,
        recorded_by_member_id=recorded_by,
    )


def check_exchange(
    provider_id: uuid.UUID,
    receiver_id: uuid.UUID,
    minutes: int,
    description: str,
    category: str | None,
) -> None:
    """The checks that need no database, in this order; all ``invalid_input``."""
    if provider_id == receiver_id:
        raise errors.InvalidInput("provider and receiver must be two different members")
    if type(minutes) is not int or not 1 <= minutes <= MINUTES_MAX:
        raise errors.InvalidInput(
            f"minutes must be a whole number from 1 to {MINUTES_MAX}, got {minutes!r}"
        )
    if (
        not isinstance(description, str)
        or not description.strip()
        or len(description) > DESCRIPTION_MAX_CHARS
    ):
        raise errors.InvalidInput(
            f"description must say what was done, in 1 to {DESCRIPTION_MAX_CHARS} characters"
        )
    if category is not None and (
        not isinstance(category, str) or not category.strip() or len(category) > CATEGORY_MAX_CHARS
    ):
        raise errors.InvalidInput(f"category must be 1 to {CATEGORY_MAX_CHARS} characters of text")


class Exchanges:
    """The exchange use cases, over the ledger's entry use cases."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def record(
        self,
        community_id: uuid.UUID,
        *,
        provider_id: uuid.UUID,
        receiver_id: uuid.UUID,
        minutes: int,
        description: str,
        category: str | None = None,
        recorded_by: uuid.UUID | None = None,
        effective_date: date | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Exchange:
        """A pending exchange: ``provider_id`` gave ``receiver_id`` ``minutes`` of service on
        ``effective_date`` (default: the day it is recorded), recorded by the member
        ``recorded_by`` (None: a key or an import), whose counterparty answers it.

        ``invalid_input`` for bad values, ``member_not_found`` for an unknown member, and every
        rejection of a pending entry (``limit_exceeded``, ``account_closed`` …)."""
        check_exchange(provider_id, receiver_id, minutes, description, category)
        provider = await self._ledger.get_member(community_id, provider_id)
        receiver = await self._ledger.get_member(community_id, receiver_id)
        entry = exchange_entry(
            provider,
            receiver,
            minutes,
            description,
            effective_date=effective_date,
            category=category,
            recorded_by=recorded_by,
        )
        written = await self._ledger.post_entry(community_id, entry, idempotency_key)
        return Exchange.of(written)

    async def get(self, community_id: uuid.UUID, exchange_id: uuid.UUID) -> Exchange:
        """``entry_not_found`` when there is no such entry or it is no exchange (the same error
        either way, so that an exchange id tells nothing about other entries)."""
        try:
            entry = await self._ledger.get_entry(community_id, exchange_id)
        except errors.EntryNotFound:
            raise not_found(exchange_id) from None
        return Exchange.of(entry)

    async def confirm(
        self,
        community_id: uuid.UUID,
        exchange_id: uuid.UUID,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Exchange:
        """Posts the exchange's entry: the hours move. ``entry_not_pending`` if it was already
        confirmed or declined."""
        await self.get(community_id, exchange_id)
        posted = await self._ledger.post_pending(community_id, exchange_id, idempotency_key)
        return Exchange.of(posted)

    async def decline(
        self,
        community_id: uuid.UUID,
        exchange_id: uuid.UUID,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Exchange:
        """Voids the exchange's entry, releasing its reservations. ``entry_not_pending`` if it
        was already confirmed or declined."""
        await self.get(community_id, exchange_id)
        voided = await self._ledger.void_pending(community_id, exchange_id, idempotency_key)
        return Exchange.of(voided)

    async def list_exchanges(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None = None,
        status: ExchangeStatus | None = None,
        after: uuid.UUID | None = None,
        limit: int = 50,
        effective_from: date | None = None,
        effective_before: date | None = None,
        newest_first: bool = False,
        not_reversed_by: date | None = None,
    ) -> Sequence[Exchange]:
        """Exchanges in the order they were recorded (``newest_first``: the reverse), ``limit``
        after the exchange ``after``: only those ``member_id`` takes part in, in ``status``,
        effective from ``effective_from`` and before ``effective_before``, and not undone by a
        posted reversal dated on or before ``not_reversed_by``, when given."""
        account_ids = None
        if member_id is not None:
            member = await self._ledger.get_member(community_id, member_id)
            account_ids = [member.hours_account_id]
        entry_status = None if status is None else _ENTRY_STATUS_OF[status]
        entries = await self._ledger.list_entries(
            community_id,
            after=after,
            limit=limit,
            account_ids=account_ids,
            kind=EXCHANGE_KIND,
            status=entry_status,
            effective_from=effective_from,
            effective_before=effective_before,
            newest_first=newest_first,
            not_reversed_by=not_reversed_by,
        )
        # An exchange touching the member's HOURS account is one they give or receive.
        found = [_exchange_or_none(entry) for entry in entries]
        return [exchange for exchange in found if exchange is not None]


__all__ = [
    "CATEGORY_MAX_CHARS",
    "EXCHANGE_KIND",
    "MINUTES_MAX",
    "Exchange",
    "ExchangeStatus",
    "Exchanges",
    "check_exchange",
    "exchange_entry",
    "not_found",
]
