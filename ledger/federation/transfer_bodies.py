"""The bodies of the cross-transfer messages between installs (``ledger.federation.remote``):
the offer a ``prepare`` carries, the outcome that answers it, and the queries, each decoded
strictly (an unknown field or a wrong type is ``invalid_input``, refused before anything is
written)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final, TypeVar

import msgspec

from ledger.federation.messages import PeerMessage
from ledger.federation.model import Offer, Outcome, Quote, Rate, Transfer
from ledger.federation.model import TransferState as State
from ledger.kernel import errors as kernel_errors

_T = TypeVar("_T")
UNKNOWN: Final = "unknown"


class _RateBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    numerator: int
    denominator: int


class _QuoteBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rate_version: int
    rate: _RateBody
    commodity_sent: str
    amount_sent: int
    commodity_received: str
    amount_received: int
    min_received: int
    rounding: str


class _OfferBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    payer_member_id: uuid.UUID
    payee_member_id: uuid.UUID
    quote: _QuoteBody
    expires_at: datetime
    description: str
    destination: str | None = None
    """A routed transfer's payee community beyond the receiving hub (left out when direct)."""
    final_min_received: int = 1
    """A routed transfer's least amount at its payee (``Offer.final_min_received``)."""


class _OutcomeBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    state: str
    reason: str | None = None
    detail: str | None = None
    seq: int | None = None
    """A commitment's place in the payee side's journal of the link."""


class JournalQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    after_seq: int
    limit: int


class SequenceBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seq: int


class StateQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    expires_at: datetime


def offer_body(offer: Offer) -> dict[str, Any]:
    body: dict[str, Any] = msgspec.to_builtins(
        _OfferBody(
            payer_member_id=offer.payer_member_id,
            payee_member_id=offer.payee_member_id,
            quote=msgspec.convert(offer.quote, _QuoteBody, from_attributes=True),
            expires_at=offer.expires_at,
            description=offer.description,
            destination=offer.destination,
            final_min_received=offer.final_min_received,
        )
    )
    return body


def offer_of(message: PeerMessage) -> Offer:
    """The offer a ``prepare`` message carries (``invalid_input`` if malformed)."""
    body = convert(message.body, _OfferBody)
    quote = body.quote
    return Offer(
        transfer_id=message.transfer_id,
        link_id=message.link_id,
        payer_member_id=body.payer_member_id,
        payee_member_id=body.payee_member_id,
        quote=Quote(
            rate_version=quote.rate_version,
            rate=Rate(quote.rate.numerator, quote.rate.denominator),
            commodity_sent=quote.commodity_sent,
            amount_sent=quote.amount_sent,
            commodity_received=quote.commodity_received,
            amount_received=quote.amount_received,
            min_received=quote.min_received,
            rounding=quote.rounding,
        ),
        expires_at=body.expires_at,
        description=body.description,
        destination=body.destination,
        final_min_received=body.final_min_received,
    )


def outcome_body(transfer: Transfer | None, seq: int | None = None) -> dict[str, Any]:
    """The payee side's answer: its recorded outcome (with the commitment's journal seq), or
    ``unknown`` (not decided yet)."""
    if transfer is None or transfer.state is State.PREPARED:
        return {"state": UNKNOWN}
    body = {"state": str(transfer.state), "reason": transfer.reason, "detail": transfer.detail}
    return body | ({"seq": seq} if seq is not None else {})


def outcome_of(message: PeerMessage) -> tuple[Outcome, int | None] | None:
    """The outcome an answer carries and the payee side's journal seq of a commitment."""
    body = convert(message.body, _OutcomeBody)
    if body.state == UNKNOWN:
        return None
    if body.state not in (State.COMMITTED, State.REJECTED):
        raise kernel_errors.InvalidInput(f"an outcome is committed or rejected, not {body.state}")
    return Outcome(message.transfer_id, State(body.state), body.reason, body.detail), body.seq


def convert(body: dict[str, Any], kind: type[_T]) -> _T:
    try:
        return msgspec.convert(body, kind)
    except msgspec.ValidationError as exc:
        raise kernel_errors.InvalidInput(f"malformed peer message: {exc}") from None
