"""The wire format of federation: links with every term of every version, cross transfers with
their quote, and a link's reconciliation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from api.http.schemas import CommodityCode, Description, Request, Slug
from ledger.federation.journal import Checkpoint, CheckpointCheck
from ledger.federation.model import (
    DEFAULT_HOLD_WINDOW_S,
    HOLD_WINDOW_MAX_S,
    HOLD_WINDOW_MIN_S,
    CommodityTerms,
    Link,
    LinkStatus,
    Rate,
    TermsVersion,
    Transfer,
    TransferRequest,
    TransferRole,
    TransferState,
)
from ledger.federation.terms import version_in_force
from ledger.federation.transfers import LinkReconciliation
from ledger.kernel.model import AMOUNT_ABS_MAX, new_id

RatePart = Annotated[int, msgspec.Meta(ge=1, le=10**12, examples=[1])]
Limit = Annotated[int, msgspec.Meta(ge=0, le=AMOUNT_ABS_MAX, examples=[600])]
Amount = Annotated[int, msgspec.Meta(ge=1, le=AMOUNT_ABS_MAX, examples=[90])]
HoldWindow = Annotated[
    int, msgspec.Meta(ge=HOLD_WINDOW_MIN_S, le=HOLD_WINDOW_MAX_S, examples=[DEFAULT_HOLD_WINDOW_S])
]


class TermsIn(Request, frozen=True):
    """What may cross for one commodity, seen from this community."""

    commodity: Annotated[CommodityCode, msgspec.Meta(examples=["HOURS"])]
    partner_commodity: Annotated[CommodityCode, msgspec.Meta(examples=["HOURS"])]
    limit_we_owe: Limit
    """How far this community may owe the partner (smallest units of ``commodity``)."""
    limit_they_owe: Limit
    """How far the partner may owe this community (smallest units of ``commodity``)."""
    rate_numerator: RatePart = 1
    """Partner units per unit of ``commodity``, as numerator / denominator (smallest units)."""
    rate_denominator: RatePart = 1

    def to_domain(self) -> CommodityTerms:
        return CommodityTerms(
            commodity=self.commodity,
            partner_commodity=self.partner_commodity,
            rate=Rate(self.rate_numerator, self.rate_denominator),
            limit_we_owe=self.limit_we_owe,
            limit_they_owe=self.limit_they_owe,
        )


Terms = Annotated[list[TermsIn], msgspec.Meta(min_length=1, max_length=20)]


class LinkPropose(Request, frozen=True):
    """A link to ``partner``, a community of this install, with its first terms."""

    partner: Slug
    terms: Terms
    hold_window_s: HoldWindow = DEFAULT_HOLD_WINDOW_S


class VersionPropose(Request, frozen=True):
    """New terms for an accepted link (a changed limit or rate)."""

    terms: Terms
    hold_window_s: HoldWindow = DEFAULT_HOLD_WINDOW_S


class TermsOut(msgspec.Struct, frozen=True):
    commodity: str
    partner_commodity: str
    rate_numerator: int
    rate_denominator: int
    limit_we_owe: int
    limit_they_owe: int
    clearing_account_id: uuid.UUID | None

    @staticmethod
    def of(t: CommodityTerms) -> TermsOut:
        return TermsOut(
            t.commodity,
            t.partner_commodity,
            t.rate.numerator,
            t.rate.denominator,
            t.limit_we_owe,
            t.limit_they_owe,
            t.clearing_account_id,
        )


class LinkConsentOut(msgspec.Struct, frozen=True):
    member_id: uuid.UUID
    consented_at: datetime


class VersionOut(msgspec.Struct, frozen=True):
    version: int
    proposed_by: Literal["us", "partner"]
    proposed_at: datetime
    adopted_here_at: datetime | None
    adopted_there_at: datetime | None
    hold_window_s: int
    terms: list[TermsOut]
    consents: list[LinkConsentOut]
    """This community's stewards' consents."""

    @staticmethod
    def of(v: TermsVersion) -> VersionOut:
        return VersionOut(
            version=v.version,
            proposed_by="us" if v.proposed_here else "partner",
            proposed_at=v.proposed_at,
            adopted_here_at=v.adopted_here_at,
            adopted_there_at=v.adopted_there_at,
            hold_window_s=v.hold_window_s,
            terms=[TermsOut.of(t) for t in v.commodities],
            consents=[LinkConsentOut(c.member_id, c.at) for c in v.consents],
        )


class PartnerOut(msgspec.Struct, frozen=True):
    slug: str
    name: str
    node_url: str | None
    """The partner node's base URL when it lives on another install."""
    node_key: str | None


class LinkOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    partner: PartnerOut
    proposed_by: Literal["us", "partner"]
    status: LinkStatus
    suspended_by: Literal["us", "partner"] | None
    version_in_force: int | None
    created_at: datetime
    updated_at: datetime
    versions: list[VersionOut]

    @staticmethod
    def of(link: Link) -> LinkOut:
        current = version_in_force(link)
        suspended_by: Literal["us", "partner"] | None = None
        if link.status.value == "suspended":
            suspended_by = "us" if link.suspended_here else "partner"
        return LinkOut(
            id=link.id,
            partner=PartnerOut(
                link.partner.slug, link.partner.name, link.partner.node_url, link.partner.node_key
            ),
            proposed_by="us" if link.proposed_here else "partner",
            status=link.status,
            suspended_by=suspended_by,
            version_in_force=None if current is None else current.version,
            created_at=link.created_at,
            updated_at=link.updated_at,
            versions=[VersionOut.of(v) for v in link.versions],
        )


class CrossTransferCreate(Request, frozen=True):
    """``amount`` of ``commodity`` from ``payer_member_id`` of this community to
    ``payee_member_id`` of the link's partner, who receives it converted at the link's rate,
    rounded down, and no less than ``min_received``."""

    link_id: uuid.UUID
    payer_member_id: uuid.UUID
    payee_member_id: uuid.UUID
    commodity: Annotated[CommodityCode, msgspec.Meta(examples=["HOURS"])]
    amount: Amount
    min_received: Amount = 1
    description: Description = ""
    destination: Slug | None = None
    """The payee's community when the link's partner is a hub that forwards to it."""

    def to_domain(self) -> TransferRequest:
        return TransferRequest(
            transfer_id=new_id(),
            link_id=self.link_id,
            payer_member_id=self.payer_member_id,
            payee_member_id=self.payee_member_id,
            commodity=self.commodity,
            amount=self.amount,
            min_received=self.min_received,
            description=self.description,
            destination=self.destination,
        )


class CrossQuoteOut(msgspec.Struct, frozen=True):
    rate_version: int
    rate_numerator: int
    rate_denominator: int
    rounding: str
    """Always ``floor``: the amount received never exceeds the exact conversion."""
    commodity_sent: str
    amount_sent: int
    commodity_received: str
    amount_received: int
    min_received: int


class CrossTransferOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    link_id: uuid.UUID
    role: TransferRole
    """``payer`` (this community paid) or ``payee``."""
    state: TransferState
    member_id: uuid.UUID | None
    partner_member_id: uuid.UUID | None
    quote: CrossQuoteOut | None
    expires_at: datetime
    entry_id: uuid.UUID | None
    reason: str | None
    detail: str | None
    description: str
    destination: str | None
    """Beyond a hub: the payee's community."""
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(t: Transfer) -> CrossTransferOut:
        q = t.quote
        quote = None
        if q is not None:
            quote = CrossQuoteOut(
                q.rate_version,
                q.rate.numerator,
                q.rate.denominator,
                q.rounding,
                q.commodity_sent,
                q.amount_sent,
                q.commodity_received,
                q.amount_received,
                q.min_received,
            )
        return CrossTransferOut(
            id=t.id,
            link_id=t.link_id,
            role=t.role,
            state=t.state,
            member_id=t.member_id,
            partner_member_id=t.partner_member_id,
            quote=quote,
            expires_at=t.expires_at,
            entry_id=t.entry_id,
            reason=t.reason,
            detail=t.detail,
            description=t.description,
            destination=t.destination,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )


class CheckpointOut(msgspec.Struct, frozen=True):
    seq: int
    chain_hash: str
    balances: dict[str, int]
    """Per commodity of that side: what it owes the other (negative: is owed)."""

    @staticmethod
    def of(c: Checkpoint) -> CheckpointOut:
        return CheckpointOut(c.seq, c.hash, dict(c.balances))


class CheckpointCheckOut(msgspec.Struct, frozen=True):
    """Between installs: both sides' latest signed checkpoints, compared at one seq."""

    seq: int
    same_chain: bool
    """Both sides' chain hashes at ``seq`` are the same."""
    mirror: bool
    """This side's balance is minus the partner's, in the partner's units (and the reverse)."""
    problem: str | None
    """Which checkpoint does not match, and how."""

    @staticmethod
    def of(c: CheckpointCheck) -> CheckpointCheckOut:
        return CheckpointCheckOut(c.seq, c.same_chain, c.mirror, c.problem)


class ReconciliationOut(msgspec.Struct, frozen=True):
    link_id: uuid.UUID
    agrees: bool
    agrees_up_to: int
    """The two journals hold the same movements up to this seq."""
    first_difference: int | None
    reason: str | None
    ours: CheckpointOut
    theirs: CheckpointOut
    books: dict[str, int]
    """This community's clearing accounts' posted balances, per commodity."""
    books_agree: bool
    """Whether each clearing account's balance is what the journal says (with the movements
    held for their place in the journal order, between installs)."""
    held: int = 0
    """Movements posted on this side that wait for their place in the link's journal order
    (between installs: the partner node, which keeps the order, has not told their seq yet)."""
    checkpoint: CheckpointCheckOut | None = None
    """With a partner on another node: the latest signed checkpoints compared (null on one
    install, where both journals are read directly)."""

    @staticmethod
    def of(r: LinkReconciliation) -> ReconciliationOut:
        j = r.journal
        return ReconciliationOut(
            link_id=r.link_id,
            agrees=r.agrees,
            agrees_up_to=j.agrees_up_to,
            first_difference=j.first_difference,
            reason=j.reason,
            ours=CheckpointOut.of(j.ours),
            theirs=CheckpointOut.of(j.theirs),
            books=r.books,
            books_agree=r.books_agree,
            held=r.held,
            checkpoint=None if r.checkpoint is None else CheckpointCheckOut.of(r.checkpoint),
        )
