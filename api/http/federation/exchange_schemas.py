"""The wire format of cross exchanges and the directory of linked communities' members."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from api.http.schemas import Category, MemberId, Minutes, Request
from ledger.federation.exchange_model import (
    CrossExchange,
    CrossRecord,
    CrossStatus,
    ExchangeRole,
    Listing,
)


class CrossExchangeCreate(Request, frozen=True):
    """``member_id`` of this community was ``role`` towards ``partner_member_id`` of the link's
    partner: pending until the partner member confirms it in their own community."""

    link_id: uuid.UUID
    member_id: MemberId
    role: ExchangeRole
    """``provider``: "I helped them"; ``receiver``: "they helped me"."""
    partner_member_id: MemberId
    minutes: Minutes
    description: Annotated[
        str, msgspec.Meta(min_length=1, max_length=1000, examples=["Fixed the bike"])
    ]
    category: Category | None = None

    def to_domain(self) -> CrossRecord:
        return CrossRecord(
            link_id=self.link_id,
            member_id=self.member_id,
            role=self.role,
            partner_member_id=self.partner_member_id,
            minutes=self.minutes,
            description=self.description,
            category=self.category,
        )


class CrossExchangeOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    """Also the id of the cross transfer that moves its hours once confirmed."""
    link_id: uuid.UUID
    role: ExchangeRole
    """This community's member's role: ``provider`` or ``receiver``."""
    member_id: uuid.UUID
    partner_member_id: uuid.UUID
    minutes: int
    description: str
    category: str | None
    recorded_here: bool
    """True: this community's member recorded it and the partner member confirms; False: it
    waits for this community's member."""
    status: CrossStatus
    """``pending``, ``confirmed`` (the hours crossed) or ``declined`` (nothing moved); with a
    partner on another node also ``confirming`` (confirmed, the hours on their way) and
    ``refused`` (that node refused the record, or the hours could not cross: see ``reason``)."""
    created_at: datetime
    completed_at: datetime | None
    partner_name: str | None = None
    """The partner member's name, when they live on another node (their node tells it)."""
    reason: str | None = None
    """Why a partner node refused it (a problem code, e.g. ``link_limit_exceeded``)."""

    @staticmethod
    def of(x: CrossExchange) -> CrossExchangeOut:
        return CrossExchangeOut(
            id=x.id,
            link_id=x.link_id,
            role=x.role,
            member_id=x.member_id,
            partner_member_id=x.partner_member_id,
            minutes=x.minutes,
            description=x.description,
            category=x.category,
            recorded_here=x.recorded_here,
            status=x.status,
            created_at=x.created_at,
            completed_at=x.completed_at,
            partner_name=x.partner_name,
            reason=x.reason,
        )


class ListingOut(msgspec.Struct, frozen=True):
    member_id: uuid.UUID
    name: str
    community: str
    """The member's community's slug."""
    community_name: str
    link_id: uuid.UUID
    """The link to record an exchange with this member over."""

    @staticmethod
    def of(x: Listing) -> ListingOut:
        return ListingOut(x.member_id, x.name, x.community_slug, x.community_name, x.link_id)


class DirectoryChoice(Request, frozen=True):
    listed: Annotated[bool, msgspec.Meta(examples=[True])]
    """True: members of linked communities may find this member in their directory."""


class DirectoryChoiceOut(msgspec.Struct, frozen=True):
    member_id: uuid.UUID
    listed: bool
