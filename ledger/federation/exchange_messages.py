"""The messages of cross exchanges between installs (``ledger.federation.remote_exchanges``
has the rules): their steps, bodies and answers, and the checks the receiving node makes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final, TypeVar

import msgspec

from ledger.audit import chain as audit
from ledger.federation import errors
from ledger.federation.exchange_model import CrossExchange, CrossStatus, ExchangeRole, Listing
from ledger.federation.messages import PeerMessage
from ledger.federation.model import Link, TransferRequest
from ledger.federation.ports import FedTx
from ledger.federation.steps import link_of
from ledger.federation.terms import in_force
from ledger.kernel import errors as kernel_errors
from ledger.kernel.model import HOURS
from ledger.timebank.exchanges import check_exchange

_T = TypeVar("_T")
RECORD_STEP: Final = "exchange_record"
CONFIRM_STEP: Final = "exchange_confirm"
DECLINE_STEP: Final = "exchange_decline"
DIRECTORY_STEP: Final = "directory"
REFUSED: Final = str(CrossStatus.REFUSED)


class Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: ExchangeRole
    """The recorder's member's role."""
    member_id: uuid.UUID
    member_name: str
    partner_member_id: uuid.UUID
    minutes: int
    description: str
    category: str | None = None


class Answer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    status: str
    reason: str | None = None
    detail: str | None = None
    name: str | None = None
    """The answering member's name (to a record)."""


class Listed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    member_id: uuid.UUID
    name: str


class DirectoryPage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    members: list[Listed]


def convert(body: dict[str, Any], kind: type[_T]) -> _T:
    try:
        return msgspec.convert(body, kind)
    except msgspec.ValidationError as exc:
        raise kernel_errors.InvalidInput(f"malformed peer message: {exc}") from None


def refused_answer(error: kernel_errors.LedgerError) -> dict[str, Any]:
    return {"status": REFUSED, "reason": error.code, "detail": error.detail}


def not_found(message: PeerMessage) -> dict[str, Any]:
    """The answer to a message about an exchange this side's member did not record."""
    return refused_answer(errors.ExchangeNotFound(f"exchange {message.transfer_id} not found"))


def payment(row: CrossExchange) -> TransferRequest:
    """The cross transfer of a confirmed exchange's hours from this side's member, the
    receiver, to the provider; its id is the exchange's."""
    return TransferRequest(
        transfer_id=row.id,
        link_id=row.link_id,
        payer_member_id=row.member_id,
        payee_member_id=row.partner_member_id,
        commodity=HOURS,
        amount=row.minutes,
        min_received=1,
        description=row.description,
    )


async def end(tx: FedTx, row: CrossExchange, operation: str, now: datetime, **change: Any) -> None:
    done = replace(row, **change)
    await tx.store.complete_exchange(done)
    await tx.repo.append_audit(row.community_id, audit.event(operation, None, done, now))


async def check_record(
    tx: FedTx, community_id: uuid.UUID, message: PeerMessage, body: Record
) -> str:
    """C's checks of a record, before anything is written; the named member's name."""
    check_exchange(
        body.member_id, body.partner_member_id, body.minutes, body.description, body.category
    )
    link = await link_of(tx, community_id, message.link_id)
    in_force(link, HOURS)
    if await tx.store.get_exchange(community_id, message.transfer_id) is not None:
        raise kernel_errors.InvalidInput(f"exchange {message.transfer_id} exists already")
    member = await tx.repo.get_member(community_id, body.partner_member_id)
    if member is None or not await tx.store.is_listed(community_id, member.id):
        raise kernel_errors.MemberNotFound(
            f"member {body.partner_member_id} is not a listed member of this community"
        )
    return member.name


async def recorded_row(
    tx: FedTx, community_id: uuid.UUID, message: PeerMessage
) -> CrossExchange | None:
    """R's row of the exchange a message names, locked; None unless R's member recorded it over
    the message's link."""
    row = await tx.store.get_exchange(community_id, message.transfer_id, lock=True)
    if row is None or row.link_id != message.link_id or not row.recorded_here:
        return None
    return row


def listed_name(link: Link, listed: Sequence[Listing] | None, member_id: uuid.UUID) -> str | None:
    """The partner member's name in the partner node's directory (``member_not_found`` when it
    answered without them); None when it could not tell."""
    if listed is None:
        return None
    found = next((x for x in listed if x.member_id == member_id), None)
    if found is None:
        raise kernel_errors.MemberNotFound(
            f"member {member_id} is not listed in {link.partner.name}'s directory"
        )
    return found.name
