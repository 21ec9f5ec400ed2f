"""Cross exchanges' values (``ledger.federation.exchanges`` has the rules): one community's row
of an exchange with a member of a linked community, what a member records, a directory
listing."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from ledger.kernel.model import new_id


class ExchangeRole(enum.StrEnum):
    PROVIDER = "provider"
    RECEIVER = "receiver"

    def other(self) -> ExchangeRole:
        return ExchangeRole.RECEIVER if self is ExchangeRole.PROVIDER else ExchangeRole.PROVIDER


class CrossStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMING = "confirming"
    """Between installs: its member confirmed, the hours are on their way across the link."""
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    REFUSED = "refused"
    """Between installs: the partner node refused the record, or the hours could not cross
    (``reason`` says why); nothing moved."""


@dataclass(frozen=True, slots=True)
class CrossExchange:
    """One community's row of a cross exchange: ``member_id`` is this side's member, in
    ``role``; ``recorded_here`` says whether this side's member recorded it."""

    community_id: uuid.UUID
    id: uuid.UUID
    link_id: uuid.UUID
    role: ExchangeRole
    member_id: uuid.UUID
    partner_member_id: uuid.UUID
    minutes: int
    description: str
    category: str | None
    recorded_here: bool
    status: CrossStatus
    created_at: datetime
    completed_at: datetime | None = None
    partner_name: str | None = None
    """The partner member's name when they live on another node (their node tells it)."""
    reason: str | None = None
    """Why it was ``refused`` (a problem code)."""

    def awaits(self, member_id: uuid.UUID | None) -> bool:
        """Whether ``member_id`` is the one to confirm or decline it (the recorder's
        counterparty, on this side)."""
        return (
            self.status is CrossStatus.PENDING
            and not self.recorded_here
            and member_id == self.member_id
        )

    def mirror(self, community_id: uuid.UUID) -> CrossExchange:
        return replace(
            self,
            community_id=community_id,
            role=self.role.other(),
            member_id=self.partner_member_id,
            partner_member_id=self.member_id,
            recorded_here=not self.recorded_here,
        )


@dataclass(frozen=True, slots=True)
class CrossRecord:
    """What a member records: ``member_id`` (this side) was ``role`` towards ``partner_member_id``
    of the link's partner community."""

    link_id: uuid.UUID
    member_id: uuid.UUID
    role: ExchangeRole
    partner_member_id: uuid.UUID
    minutes: int
    description: str
    category: str | None = None

    def row(
        self, community_id: uuid.UUID, now: datetime, partner_name: str | None = None
    ) -> CrossExchange:
        """The recorder's side's new row: pending, recorded here."""
        return CrossExchange(
            community_id=community_id,
            id=new_id(),
            link_id=self.link_id,
            role=self.role,
            member_id=self.member_id,
            partner_member_id=self.partner_member_id,
            minutes=self.minutes,
            description=self.description,
            category=self.category,
            recorded_here=True,
            status=CrossStatus.PENDING,
            created_at=now,
            partner_name=partner_name,
        )


@dataclass(frozen=True, slots=True)
class Listing:
    """A member of a linked community who chose to be listed in the directory."""

    community_slug: str
    community_name: str
    link_id: uuid.UUID
    member_id: uuid.UUID
    name: str
