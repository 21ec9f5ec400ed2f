"""The transactional outbox: which events a write emits, decided by one table.

Every write that takes effect appends one audit record (``ledger.audit.chain``) in its transaction;
the events of that write are derived from the same operation name and result, by
:data:`EVENTS_OF`, and stored with the record, in the same transaction — so a rolled-back write
leaves no event and a committed one never misses its events. An operation missing from the table
emits nothing (credentials, account changes …).

An event's place in the feed is ``(seq, n)``: the audit record's number in its community (given
out under the chain head's lock, so numbers are gapless and in commit order) and the event's
index among that record's events. Adding a feature's events is one line in :data:`EVENTS_OF`,
e.g. ``"adopt_budget": about("budget.adopted", "budget"),``.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

import msgspec

from ledger.kernel.model import Entry, EntryStatus, Member, new_id

EXCHANGE_KIND: Final = "exchange"
"""The kind of an exchange's entry (``ledger.timebank.exchanges``, which imports the service and so
cannot be imported here)."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event before it is stored: ``id`` is unique across communities and stays the same on
    every delivery, so receivers can drop duplicates by it."""

    type: str
    resource_kind: str
    resource_id: str
    data: dict[str, Any]
    """The resource as it was after the write, as JSON values."""
    member_ids: tuple[uuid.UUID, ...] = ()
    """Members the event concerns: their member tokens see it in the feed."""
    account_ids: tuple[uuid.UUID, ...] = ()
    """Accounts the event concerns: the tokens of their members see it in the feed."""
    id: uuid.UUID = field(default_factory=new_id)


@dataclass(frozen=True, slots=True)
class Event:
    """A stored event, at its place ``(seq, n)`` in its community's feed."""

    community_id: uuid.UUID
    seq: int
    n: int
    id: uuid.UUID
    type: str
    occurred_at: datetime
    resource_kind: str
    resource_id: str
    data: dict[str, Any]
    member_ids: tuple[uuid.UUID, ...]
    account_ids: tuple[uuid.UUID, ...]

    @property
    def position(self) -> tuple[int, int]:
        return (self.seq, self.n)

    def visible_to(self, member_id: uuid.UUID, own_accounts: frozenset[uuid.UUID]) -> bool:
        """Whether a member token may read it: it concerns the member or one of their accounts."""
        return member_id in self.member_ids or not own_accounts.isdisjoint(self.account_ids)


Mapper = Callable[[object], tuple[NewEvent, ...]]


def _json(result: object) -> dict[str, Any]:
    data = msgspec.to_builtins(result)
    if not isinstance(data, dict):
        return {"value": data}
    data.pop("community_id", None)
    return data


def about(event_type: str, resource_kind: str) -> Mapper:
    """The mapper of a write that emits one ``event_type`` about its result (anything with an
    ``id``); only treasurers' and readers' keys see it, no member token."""

    def mapper(result: object) -> tuple[NewEvent, ...]:
        resource_id = str(getattr(result, "id", ""))
        return (NewEvent(event_type, resource_kind, resource_id, _json(result)),)

    return mapper


_ENTRY_TYPES: Final = {
    EntryStatus.PENDING: "entry.pending",
    EntryStatus.POSTED: "entry.posted",
    EntryStatus.VOIDED: "entry.voided",
}
_EXCHANGE_TYPES: Final = {
    EntryStatus.PENDING: "exchange.requested",
    EntryStatus.POSTED: "exchange.confirmed",
    EntryStatus.VOIDED: "exchange.declined",
}


def _entry_event(event_type: str, entry: Entry) -> NewEvent:
    return NewEvent(
        event_type,
        "entry",
        str(entry.id),
        _json(entry),
        account_ids=tuple(dict.fromkeys(p.account_id for p in entry.postings)),
    )


def _exchange_event(entry: Entry) -> tuple[NewEvent, ...]:
    if entry.kind != EXCHANGE_KIND:
        return ()
    members = []
    for name in ("provider_member_id", "receiver_member_id"):
        try:
            members.append(uuid.UUID(str(entry.metadata[name])))
        except (KeyError, ValueError):
            return ()
    event = _entry_event(_EXCHANGE_TYPES[entry.status], entry)
    return (replace(event, resource_kind="exchange", member_ids=tuple(members)),)


def entry_written(result: object) -> tuple[NewEvent, ...]:
    """``entry.pending`` or ``entry.posted`` (and ``exchange.requested`` for an exchange)."""
    assert isinstance(result, Entry)
    return (_entry_event(_ENTRY_TYPES[result.status], result), *_exchange_event(result))


def entry_completed(result: object) -> tuple[NewEvent, ...]:
    """``entry.posted`` or ``entry.voided`` (and ``exchange.confirmed`` or ``…declined``)."""
    return entry_written(result)


def entry_reversed(result: object) -> tuple[NewEvent, ...]:
    """``entry.reversed``: the resource is the reversing entry, whose ``reverses`` names the
    original."""
    assert isinstance(result, Entry)
    return (_entry_event("entry.reversed", result),)


def member_created(result: object) -> tuple[NewEvent, ...]:
    assert isinstance(result, Member)
    event = NewEvent(
        "member.created",
        "member",
        str(result.id),
        _json(result),
        member_ids=(result.id,),
        account_ids=(result.hours_account_id,),
    )
    return (event,)


def barter_recorded(result: object) -> tuple[NewEvent, ...]:
    """``barter.recorded``, seen by the members who traded (a ``ledger.economy.barter.Barter``,
    read by
    its attributes: that module imports the service, which imports this one)."""
    sides = getattr(result, "sides", ())
    members = tuple(side.member_id for side in sides if side.member_id is not None)
    event = NewEvent(
        "barter.recorded", "barter", str(getattr(result, "id", "")), _json(result), members
    )
    return (event,)


def federation_transfer(result: object) -> tuple[NewEvent, ...]:
    """``federation.transfer.<state>`` about one side's record of a cross transfer (a
    ``ledger.federation.model.Transfer``, read by its attributes: federation sits above the
    audit trail), seen by the side's member."""
    state = str(getattr(result, "state", ""))
    member_id = getattr(result, "member_id", None)
    event = NewEvent(
        f"federation.transfer.{state}",
        "federation_transfer",
        str(getattr(result, "id", "")),
        _json(result),
        member_ids=() if member_id is None else (member_id,),
    )
    return (event,)


def federation_exchange(result: object) -> tuple[NewEvent, ...]:
    """``federation.exchange.<status>`` about one side's row of a cross exchange (a
    ``ledger.federation.exchange_model.CrossExchange``, read by its attributes), seen by the
    side's member."""
    status = str(getattr(result, "status", ""))
    member_id = getattr(result, "member_id", None)
    event = NewEvent(
        f"federation.exchange.{'requested' if status == 'pending' else status}",
        "federation_exchange",
        str(getattr(result, "id", "")),
        _json(result),
        member_ids=() if member_id is None else (member_id,),
    )
    return (event,)


EVENTS_OF: Final[Mapping[str, Mapper]] = {
    # operation (the audit record's) → its events
    "post_entry": entry_written,
    "import_entry": entry_written,
    "post_pending": entry_completed,
    "void_pending": entry_completed,
    "reverse": entry_reversed,
    "create_member": member_created,
    "import_member": member_created,
    "take_snapshot": about("report.snapshot_created", "report_snapshot"),
    # Governance (ledger.governance)
    "assign_role": about("role.assigned", "role_term"),
    "end_role": about("role.ended", "role_term"),
    "create_budget": about("budget.created", "budget"),
    "revise_budget": about("budget.revised", "budget"),
    "adopt_budget": about("budget.adopted", "budget"),
    "request_disbursement": about("disbursement.requested", "disbursement"),
    "approve_disbursement": about("disbursement.approval_recorded", "disbursement"),
    "post_disbursement": about("disbursement.approved", "disbursement"),
    "reject_disbursement": about("disbursement.rejected", "disbursement"),
    "expire_disbursement": about("disbursement.expired", "disbursement"),
    # The cooperative economy (ledger.economy.service): fund movements and recurring entries are
    # entries.
    "receive_into_fund": entry_written,
    "spend_from_fund": entry_written,
    "materialise_schedule": entry_written,
    "record_barter": barter_recorded,
    "create_fund": about("fund.created", "fund"),
    "create_schedule": about("schedule.created", "schedule"),
    # Federation (ledger.federation): each side's record of a change made from either side.
    "propose_link": about("federation.link.proposed", "federation_link"),
    "receive_link": about("federation.link.proposed", "federation_link"),
    "consent_link_version": about("federation.link.consent_recorded", "federation_link"),
    "adopt_link_version": about("federation.link.version_adopted", "federation_link"),
    "partner_adopted_link_version": about("federation.link.version_adopted", "federation_link"),
    "activate_link": about("federation.link.activated", "federation_link"),
    "link_between_nodes": about("federation.link.activated", "federation_link"),
    "propose_link_version": about("federation.link.version_proposed", "federation_link"),
    "partner_proposed_link_version": about("federation.link.version_proposed", "federation_link"),
    "suspend_link": about("federation.link.suspended", "federation_link"),
    "partner_suspend_link": about("federation.link.suspended", "federation_link"),
    "resume_link": about("federation.link.resumed", "federation_link"),
    "partner_resume_link": about("federation.link.resumed", "federation_link"),
    "close_link": about("federation.link.closed", "federation_link"),
    "partner_close_link": about("federation.link.closed", "federation_link"),
    "federation_transfer": federation_transfer,
    "receive_federation_transfer": federation_transfer,
    "forward_federation_transfer": federation_transfer,
    "settle_federation_transfer": federation_transfer,  # between installs: the payer settles
    "record_cross_exchange": federation_exchange,
    "receive_cross_exchange": federation_exchange,
    "confirm_cross_exchange": federation_exchange,
    "partner_confirmed_cross_exchange": federation_exchange,
    "decline_cross_exchange": federation_exchange,
    "partner_declined_cross_exchange": federation_exchange,
    # Between installs (``ledger.federation.remote_exchanges``, ``exchange_follow``):
    "partner_refused_cross_exchange": federation_exchange,
    "cross_exchange_crossed": federation_exchange,
    "cross_exchange_refused": federation_exchange,
}


EVENT_TYPES: Final = (
    "entry.pending",
    "entry.posted",
    "entry.voided",
    "entry.reversed",
    "exchange.requested",
    "exchange.confirmed",
    "exchange.declined",
    "member.created",
    "report.snapshot_created",
    "balance.threshold_crossed",
    "role.assigned",
    "role.ended",
    "budget.created",
    "budget.revised",
    "budget.adopted",
    "disbursement.requested",
    "disbursement.approval_recorded",
    "disbursement.approved",
    "disbursement.rejected",
    "disbursement.expired",
    "barter.recorded",
    "fund.created",
    "schedule.created",
    "federation.link.proposed",
    "federation.link.consent_recorded",
    "federation.link.version_adopted",
    "federation.link.activated",
    "federation.link.version_proposed",
    "federation.link.suspended",
    "federation.link.resumed",
    "federation.link.closed",
    "federation.transfer.prepared",
    "federation.transfer.committed",
    "federation.transfer.rejected",
    "federation.exchange.requested",
    "federation.exchange.confirmed",
    "federation.exchange.declined",
    "federation.exchange.confirming",
    "federation.exchange.refused",
)
"""Every type this service emits (subscriptions and filters name only these); a feature adds
its types here with its line in :data:`EVENTS_OF`."""


def events_of(operation: str, result: object) -> tuple[NewEvent, ...]:
    """The events of a write; none for an operation the table does not name."""
    mapper = EVENTS_OF.get(operation)
    return () if mapper is None else mapper(result)


def cursor(position: tuple[int, int]) -> str:
    """A feed position as the opaque cursor the API gives out (``api.http.common.pagination``'s
    encoding)."""
    return base64.urlsafe_b64encode(msgspec.json.encode(list(position))).decode().rstrip("=")


def body(event: Event, community_slug: str) -> dict[str, Any]:
    """The event as JSON, the same in the feed and in a webhook delivery."""
    return {
        "id": str(event.id),
        "type": event.type,
        "community": community_slug,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "resource": {"kind": event.resource_kind, "id": event.resource_id},
        "data": event.data,
        "position": cursor(event.position),
    }
