"""The wire format: msgspec Structs, converted explicitly to and from the domain.

Requests forbid unknown fields and bound every size. Amounts are JSON integers in the commodity's
smallest unit (minutes for HOURS); a float or a string for an amount is refused with 400.

This module holds what every concept's schemas share (the field types, :class:`Request`,
:class:`Page`) and the resources clients list in pages. Those stay here: the OpenAPI component of
a page is named after its item's module (``Page_api.http.schemas.AccountOut_``), and clients
generate code from those names. The rest lives beside its controllers: ``access_schemas``
(communities, credentials), ``book_schemas`` (what is written to the books and their balances),
``economy_schemas``, ``event_schemas``, ``governance_schemas``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec

from ledger.audit.chain import AuditRecord
from ledger.jobs.runner import JobRun, RunStatus
from ledger.kernel import inputs
from ledger.kernel.model import (
    AMOUNT_ABS_MAX,
    COMMODITY_CODE_PATTERN,
    SLUG_PATTERN,
    Account,
    AccountType,
    Commodity,
    Entry,
    EntryStatus,
    Member,
    StatementLine,
)
from ledger.timebank.exchanges import CATEGORY_MAX_CHARS, MINUTES_MAX, Exchange, ExchangeStatus
from reports.queries.snapshots import SnapshotRow

Amount = Annotated[int, msgspec.Meta(ge=-AMOUNT_ABS_MAX, le=AMOUNT_ABS_MAX, examples=[90, -90])]
PositiveAmount = Annotated[int, msgspec.Meta(ge=1, le=AMOUNT_ABS_MAX, examples=[90])]
Limit = Annotated[int, msgspec.Meta(ge=-(2**63) + 1, le=2**63 - 1)]
NO_NUL = r"^[^\u0000]*$"
"""Text holds no NUL character: PostgreSQL cannot store one (``api.http.common.strict_body`` says
so too)."""
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Description = Annotated[
    str, msgspec.Meta(max_length=1000, pattern=NO_NUL, examples=["Garden work"])
]
Slug = Annotated[
    str,
    msgspec.Meta(pattern=SLUG_PATTERN, examples=["garden-club"]),
]
CommodityCode = Annotated[str, msgspec.Meta(pattern=COMMODITY_CODE_PATTERN, examples=["EUR"])]
AccountCode = Annotated[
    str, msgspec.Meta(min_length=1, max_length=120, pattern=NO_NUL, examples=["assets:cash"])
]
METADATA_KEYS_MAX = inputs.METADATA_KEYS_MAX
METADATA_KEY_LENGTH_MAX = inputs.METADATA_KEY_CHARS_MAX
METADATA_TEXT_LENGTH_MAX = inputs.METADATA_TEXT_CHARS_MAX
MetadataKey = Annotated[
    str, msgspec.Meta(min_length=1, max_length=METADATA_KEY_LENGTH_MAX, pattern=NO_NUL)
]
MetadataValue = (
    Annotated[str, msgspec.Meta(max_length=METADATA_TEXT_LENGTH_MAX, pattern=NO_NUL)]
    | Annotated[int, msgspec.Meta(ge=-AMOUNT_ABS_MAX, le=AMOUNT_ABS_MAX)]
    | bool
    | None
)
Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    msgspec.Meta(max_length=METADATA_KEYS_MAX, examples=[{"month": "2026-11", "shift": 3}]),
]
"""Flat: text, whole numbers, true/false or null under each key (what ledgers' exports keep).
Litestar drops these constraints from the OpenAPI document; ``api.http.common.openapi`` states
them."""
AccountId = Annotated[uuid.UUID, msgspec.Meta(examples=["0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f"])]


class ChartTemplate(enum.StrEnum):
    """A starter chart of accounts (``ledger.economy.chart``)."""

    COOP = "coop"


class Request(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Base of request bodies."""


# Members and commodities --------------------------------------------------------------------


class MemberOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    name: str
    hours_account_id: uuid.UUID
    created_at: datetime

    @staticmethod
    def of(member: Member) -> MemberOut:
        return MemberOut(member.id, member.name, member.hours_account_id, member.created_at)


class CommodityOut(msgspec.Struct, frozen=True):
    code: str
    name: str
    scale: int

    @staticmethod
    def of(commodity: Commodity) -> CommodityOut:
        return CommodityOut(commodity.code, commodity.name, commodity.scale)


# Accounts -----------------------------------------------------------------------------------


class AccountOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    code: str
    name: str
    type: AccountType
    commodity: str
    member_id: uuid.UUID | None
    min_balance: int | None
    max_balance: int | None
    closed: bool

    @staticmethod
    def of(account: Account) -> AccountOut:
        return AccountOut(
            id=account.id,
            code=account.code,
            name=account.name,
            type=account.type,
            commodity=account.commodity,
            member_id=account.member_id,
            min_balance=account.balance_min,
            max_balance=account.balance_max,
            closed=account.closed,
        )


class StatementLineOut(msgspec.Struct, frozen=True):
    entry_id: uuid.UUID
    effective_date: date
    description: str
    amount: int
    running_balance: int

    @staticmethod
    def of(line: StatementLine) -> StatementLineOut:
        return StatementLineOut(
            line.entry_id, line.effective_date, line.description, line.amount, line.running_balance
        )


# Entries ------------------------------------------------------------------------------------


class PostingOut(msgspec.Struct, frozen=True):
    account_id: uuid.UUID
    amount: int
    commodity: str


class EntryOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    community: str
    """The slug of the entry's community."""
    status: EntryStatus
    effective_date: date
    description: str
    kind: str
    metadata: dict[str, Any]
    created_at: datetime
    completed_at: datetime | None
    reverses: uuid.UUID | None
    postings: list[PostingOut]

    @staticmethod
    def of(entry: Entry, community: str) -> EntryOut:
        """``community``: the slug of the entry's community."""
        return EntryOut(
            id=entry.id,
            community=community,
            status=entry.status,
            effective_date=entry.effective_date,
            description=entry.description,
            kind=entry.kind,
            metadata=entry.metadata,
            created_at=entry.created_at,
            completed_at=entry.completed_at,
            reverses=entry.reverses,
            postings=[PostingOut(p.account_id, p.amount, p.commodity) for p in entry.postings],
        )


T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], frozen=True):
    """A page of a list, in a stable order; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None


class HealthStatus(enum.StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"


class Health(msgspec.Struct, frozen=True, omit_defaults=True):
    status: HealthStatus
    database: str | None = None


# Exchanges ----------------------------------------------------------------------------------

Minutes = Annotated[int, msgspec.Meta(ge=1, le=MINUTES_MAX, examples=[90])]
Category = Annotated[
    str, msgspec.Meta(min_length=1, max_length=CATEGORY_MAX_CHARS, examples=["repairs"])
]
MemberId = Annotated[uuid.UUID, msgspec.Meta(examples=["0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f"])]


class ExchangeCreate(Request, frozen=True):
    """A service ``provider_member_id`` gave ``receiver_member_id``: pending until the receiver
    (or a steward) confirms it."""

    provider_member_id: MemberId
    receiver_member_id: Annotated[
        uuid.UUID, msgspec.Meta(examples=["0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e20"])
    ]
    minutes: Minutes
    """Length of the service in whole minutes (90 for an hour and a half)."""
    description: Annotated[
        str, msgspec.Meta(min_length=1, max_length=1000, examples=["Fixed the bike"])
    ]
    category: Category | None = None
    effective_date: date | None = None
    """The day the service was given (default: the day it is recorded)."""


class ExchangeOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    """Also the id of the exchange's journal entry."""
    status: ExchangeStatus
    """``pending``, ``confirmed`` (its entry posted) or ``declined`` (its entry voided)."""
    provider_member_id: uuid.UUID
    receiver_member_id: uuid.UUID
    minutes: int
    description: str
    category: str | None
    effective_date: date
    created_at: datetime
    completed_at: datetime | None

    @staticmethod
    def of(exchange: Exchange) -> ExchangeOut:
        return ExchangeOut(
            id=exchange.id,
            status=exchange.status,
            provider_member_id=exchange.provider_member_id,
            receiver_member_id=exchange.receiver_member_id,
            minutes=exchange.minutes,
            description=exchange.description,
            category=exchange.category,
            effective_date=exchange.effective_date,
            created_at=exchange.created_at,
            completed_at=exchange.completed_at,
        )


# Report snapshots -----------------------------------------------------------------------------


class SnapshotCreate(Request, frozen=True):
    period: Annotated[
        str,
        msgspec.Meta(
            max_length=10,
            examples=["2026-Q3", "2025-11", "2025"],
            description="a closed month, quarter or year: 2026-09, 2026-Q3 or 2026",
        ),
    ]


class SnapshotOut(msgspec.Struct, frozen=True):
    """A stored report: its content never changes; ``fingerprint`` is the ledger state it was
    built from (compare it with a fresh report's to see whether the books changed since)."""

    id: uuid.UUID
    report: str
    period_start: date
    period_end: date
    fingerprint: str
    generated_at: datetime

    @staticmethod
    def of(row: SnapshotRow) -> SnapshotOut:
        return SnapshotOut(
            row.id, row.report, row.period_start, row.period_end, row.fingerprint, row.generated_at
        )


class AuditRecordOut(msgspec.Struct, frozen=True):
    """One record of the audit trail; ``hash`` chains it to the record before (``prev_hash``)."""

    seq: Annotated[int, msgspec.Meta(examples=[1])]
    recorded_at: datetime
    operation: Annotated[str, msgspec.Meta(examples=["post_entry"])]
    actor_kind: Annotated[str, msgspec.Meta(examples=["api_key"])]
    actor_id: str | None
    member_id: uuid.UUID | None
    role: Annotated[str, msgspec.Meta(examples=["treasurer"])]
    request_id: str | None
    idempotency_key: str | None
    result_ids: list[str]
    prev_hash: str
    hash: str

    @staticmethod
    def of(record: AuditRecord) -> AuditRecordOut:
        return AuditRecordOut(
            seq=record.seq,
            recorded_at=record.recorded_at,
            operation=record.operation,
            actor_kind=record.actor_kind,
            actor_id=record.actor_id,
            member_id=record.member_id,
            role=record.role,
            request_id=record.request_id,
            idempotency_key=record.idempotency_key,
            result_ids=list(record.result_ids),
            prev_hash=record.prev_hash,
            hash=record.hash,
        )


class JobRunOut(msgspec.Struct, frozen=True):
    """One run of a periodic job for the community and a period."""

    job: Annotated[str, msgspec.Meta(examples=["report-snapshots"])]
    period: Annotated[str, msgspec.Meta(examples=["2026-Q3"])]
    status: RunStatus
    attempts: int
    claimed_at: datetime
    lease_until: datetime
    finished_at: datetime | None
    outcome: str | None

    @staticmethod
    def of(run: JobRun) -> JobRunOut:
        return JobRunOut(
            job=run.job,
            period=run.period,
            status=run.status,
            attempts=run.attempts,
            claimed_at=run.claimed_at,
            lease_until=run.lease_until,
            finished_at=run.finished_at,
            outcome=run.outcome,
        )
