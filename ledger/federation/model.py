"""Federation values: links between two communities, their versioned terms, cross transfers and
the quote each carries.

A link has one ``id`` shared by both sides; each community keeps its own row of it, written from
its own point of view ("here" is this community, "there" the partner). Terms are per commodity
that may cross. Amounts are integers in the commodity's smallest unit, as everywhere.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

DEFAULT_HOLD_WINDOW_S: Final = 300
"""How long a cross transfer may stay pending unless the terms say otherwise."""

SKEW_MARGIN: Final = timedelta(seconds=30)
"""Clock skew allowed between two nodes: the payee's community refuses a transfer from
``expires_at - SKEW_MARGIN`` on by its own clock, so the payer's deadline is never passed."""

HOLD_WINDOW_MIN_S: Final = 3 * int(SKEW_MARGIN.total_seconds())
HOLD_WINDOW_MAX_S: Final = 7 * 24 * 3600

ROUNDING: Final = "floor"
"""The only rounding rule: the amount received is rounded down, so conversion never creates
value."""


class LinkStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class TransferRole(enum.StrEnum):
    """Which side of a cross transfer a community's record is."""

    PAYER = "payer"
    PAYEE = "payee"


class TransferState(enum.StrEnum):
    PREPARED = "prepared"
    """At the payer's side: P's pending entry written, the payee's side not heard yet."""
    COMMITTED = "committed"
    """Posted on this side's books (the payee's decision, or the payer's settlement of it)."""
    REJECTED = "rejected"
    """Refused by the payee's side (``reason`` says why); voided on the payer's books."""


@dataclass(frozen=True, slots=True)
class Rate:
    """Partner units per local unit, an exact rational of smallest units (hours: 1/1)."""

    numerator: int
    denominator: int

    def convert(self, amount: int) -> int:
        """``floor(amount × n / d)``: never more than the exact value."""
        return amount * self.numerator // self.denominator

    def inverse(self) -> Rate:
        return Rate(self.denominator, self.numerator)


@dataclass(frozen=True, slots=True)
class CommodityTerms:
    """What may cross for one commodity, seen from this side."""

    commodity: str
    """This community's commodity."""
    partner_commodity: str
    rate: Rate
    limit_we_owe: int
    """How far this community may owe the partner (smallest units of ``commodity``)."""
    limit_they_owe: int
    """How far the partner may owe this community (smallest units of ``commodity``)."""
    clearing_account_id: uuid.UUID | None = None
    """The account of this community that stands for the partner (None in a partner's view)."""

    def mirror(self) -> CommodityTerms:
        """The same terms as the partner sees them (its clearing account is its own to name)."""
        return CommodityTerms(
            commodity=self.partner_commodity,
            partner_commodity=self.commodity,
            rate=self.rate.inverse(),
            limit_we_owe=self.rate.convert(self.limit_they_owe),
            limit_they_owe=self.rate.convert(self.limit_we_owe),
        )


@dataclass(frozen=True, slots=True)
class VersionConsent:
    member_id: uuid.UUID
    at: datetime


@dataclass(frozen=True, slots=True)
class TermsVersion:
    """One version of a link's terms; in force once adopted on both sides."""

    version: int
    commodities: tuple[CommodityTerms, ...]
    hold_window_s: int
    proposed_here: bool
    proposed_at: datetime
    adopted_here_at: datetime | None = None
    adopted_there_at: datetime | None = None
    consents: tuple[VersionConsent, ...] = ()
    """This community's stewards' consents (the partner's are the partner's business)."""

    @property
    def adopted(self) -> bool:
        return self.adopted_here_at is not None and self.adopted_there_at is not None

    def terms_for(self, commodity: str) -> CommodityTerms | None:
        return next((t for t in self.commodities if t.commodity == commodity), None)


@dataclass(frozen=True, slots=True)
class Partner:
    """The community at the other end of a link."""

    slug: str
    name: str
    community_id: uuid.UUID | None = None
    """On this install: the partner community's id; None when it lives on another node."""
    node_url: str | None = None
    """On another install: the partner node's base URL (None on this install)."""
    node_key: str | None = None
    """On another install: the partner node's public key (None on this install)."""


@dataclass(frozen=True, slots=True)
class Link:
    community_id: uuid.UUID
    id: uuid.UUID
    partner: Partner
    proposed_here: bool
    status: LinkStatus
    suspended_here: bool
    """Whether this side suspended it (only the side that suspended resumes)."""
    created_at: datetime
    updated_at: datetime
    versions: tuple[TermsVersion, ...]

    def version(self, number: int) -> TermsVersion | None:
        return next((v for v in self.versions if v.version == number), None)


@dataclass(frozen=True, slots=True)
class Quote:
    """How an amount crosses, recorded on both sides."""

    rate_version: int
    rate: Rate
    commodity_sent: str
    amount_sent: int
    commodity_received: str
    amount_received: int
    min_received: int
    """The least amount the payer accepts at the payee's side."""
    rounding: str = ROUNDING


@dataclass(frozen=True, slots=True)
class Transfer:
    """One side's record of a cross transfer; ``id`` is the same on both sides."""

    community_id: uuid.UUID
    id: uuid.UUID
    link_id: uuid.UUID
    role: TransferRole
    state: TransferState
    member_id: uuid.UUID | None
    """This side's member: the payer at the payer's side, the payee at the payee's (None for a
    tombstone)."""
    partner_member_id: uuid.UUID | None
    quote: Quote | None
    expires_at: datetime
    entry_id: uuid.UUID | None
    """This side's entry: pending then posted or voided (payer), posted (payee)."""
    reason: str | None
    """A rejection's code (``quote_expired``, ``link_limit_exceeded`` …)."""
    detail: str | None
    description: str
    created_at: datetime
    updated_at: datetime
    destination: str | None = None
    """At the payer's side of a routed transfer: the payee's community, beyond the link's
    partner (a hub), as the hub names it."""
    upstream_id: uuid.UUID | None = None
    """At a hub, on its record of a hop it forwards: the id of the upstream hop, which the hub
    answers with this hop's outcome (``ledger.federation.routing``)."""


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """What a payer asks: ``amount`` of ``commodity`` (payer's units) to ``payee_member_id`` of
    the link's partner, who must receive at least ``min_received`` (partner's units)."""

    transfer_id: uuid.UUID
    link_id: uuid.UUID
    payer_member_id: uuid.UUID
    payee_member_id: uuid.UUID
    commodity: str
    amount: int
    min_received: int = 1
    description: str = ""
    destination: str | None = None
    """The payee's community when it is not the link's partner: the partner is a hub that
    forwards over its own link to ``destination`` (``ledger.federation.routing``);
    ``min_received`` then applies to what the payee receives."""


@dataclass(frozen=True, slots=True)
class Offer:
    """What the payer's side tells the payee's side (the ``prepare`` message between nodes)."""

    transfer_id: uuid.UUID
    link_id: uuid.UUID
    payer_member_id: uuid.UUID
    payee_member_id: uuid.UUID
    quote: Quote
    expires_at: datetime
    description: str = ""
    destination: str | None = None
    """Set when the receiving side is a hub that must forward (see ``TransferRequest``)."""
    final_min_received: int = 1
    """For a forwarded offer: the least amount the payee must receive at the end."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The payee side's final word (the ``decide`` answer between nodes)."""

    transfer_id: uuid.UUID
    state: TransferState
    reason: str | None = None
    detail: str | None = None
