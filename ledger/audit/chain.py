"""The audit trail: who wrote what, when, under which request — append-only and hash-chained.

Every write that takes effect adds one record in the same transaction as the write: the actor
(credential kind and id, member, role), the use case, the time, the request id, the idempotency
key and the ids of what it produced. Records of a community are numbered 1, 2, 3 … without gaps,
and each carries the SHA-256 of its predecessor's hash and a canonical encoding of itself, so
that changing, removing or reordering any record — or cutting off the newest ones, which the
chain's head remembers — breaks the chain at a point :class:`ChainVerifier` names.

The actor and request id reach the use cases through :func:`acting`, a context variable bound per
request by the HTTP layer (like the request id of the logs); command-line tools act as
:data:`OPERATOR`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

import msgspec

from ledger.audit import outbox

GENESIS_HASH: Final = "0" * 64
"""The ``prev_hash`` of a community's first record."""


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str
    """``api_key``, ``member``, ``bootstrap`` (the operator's token) or ``operator`` (a CLI)."""
    credential_id: str | None
    member_id: uuid.UUID | None
    role: str
    """The highest scope of an API key (``treasurer`` …), ``member``, or ``admin``."""


OPERATOR: Final = Actor(kind="operator", credential_id=None, member_id=None, role="admin")


@dataclass(frozen=True, slots=True)
class AuditContext:
    actor: Actor
    request_id: str | None = None


_OPERATOR_CONTEXT: Final = AuditContext(OPERATOR)
_context: ContextVar[AuditContext | None] = ContextVar("commons_ledger_audit", default=None)


@contextmanager
def acting(context: AuditContext) -> Iterator[None]:
    """Writes made inside the block are recorded as ``context``'s."""
    token = _context.set(context)
    try:
        yield
    finally:
        _context.reset(token)


def current() -> AuditContext:
    return _context.get() or _OPERATOR_CONTEXT


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """A write, before it takes its place in the chain."""

    operation: str
    actor: Actor
    request_id: str | None
    idempotency_key: str | None
    result_ids: tuple[str, ...]
    recorded_at: datetime
    events: tuple[outbox.NewEvent, ...] = ()
    """What the write tells other tools (``ledger.audit.outbox``), stored with the record."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    community_id: uuid.UUID
    seq: int
    """1 for a community's first record, then without gaps."""
    recorded_at: datetime
    operation: str
    actor_kind: str
    actor_id: str | None
    member_id: uuid.UUID | None
    role: str
    request_id: str | None
    idempotency_key: str | None
    result_ids: tuple[str, ...]
    prev_hash: str
    hash: str


def event(
    operation: str,
    idempotency_key: str | None,
    result: object,
    now: datetime,
    context: AuditContext | None = None,
) -> AuditEvent:
    """The event of a write that produced ``result``, by ``context``'s actor (by default the
    current context's: a write made for another request, as in a group commit, names its own)."""
    context = context or current()
    return AuditEvent(
        operation=operation,
        actor=context.actor,
        request_id=context.request_id,
        idempotency_key=idempotency_key,
        result_ids=result_ids(result),
        recorded_at=now,
        events=outbox.events_of(operation, result),
    )


def result_ids(result: object) -> tuple[str, ...]:
    """The ids a write produced: an entry's, a member's and their hours account's, an account's,
    or a commodity's code."""
    found = [getattr(result, name, None) for name in ("id", "hours_account_id")]
    if not any(found):
        found = [getattr(result, "code", None)]
    return tuple(str(value) for value in found if value is not None)


_encoder = msgspec.json.Encoder()


def record_hash(record: AuditRecord) -> str:
    """SHA-256 over the previous hash and a canonical encoding of every other field."""
    canonical = _encoder.encode(
        [
            str(record.community_id),
            record.seq,
            record.recorded_at.isoformat(timespec="microseconds"),
            record.operation,
            record.actor_kind,
            record.actor_id,
            None if record.member_id is None else str(record.member_id),
            record.role,
            record.request_id,
            record.idempotency_key,
            list(record.result_ids),
        ]
    )
    return hashlib.sha256(record.prev_hash.encode() + canonical).hexdigest()


def chain(community_id: uuid.UUID, seq: int, prev_hash: str, event: AuditEvent) -> AuditRecord:
    """The record that follows ``(seq - 1, prev_hash)`` in the community's chain."""
    unsealed = AuditRecord(
        community_id=community_id,
        seq=seq,
        recorded_at=event.recorded_at,
        operation=event.operation,
        actor_kind=event.actor.kind,
        actor_id=event.actor.credential_id,
        member_id=event.actor.member_id,
        role=event.actor.role,
        request_id=event.request_id,
        idempotency_key=event.idempotency_key,
        result_ids=event.result_ids,
        prev_hash=prev_hash,
        hash="",
    )
    return replace(unsealed, hash=record_hash(unsealed))


@dataclass(frozen=True, slots=True)
class BrokenLink:
    seq: int
    reason: str


class ChainVerifier:
    """Checks a community's records fed in order, one page at a time."""

    def __init__(self) -> None:
        self.checked = 0
        self._prev_hash = GENESIS_HASH
        self.broken: BrokenLink | None = None

    def feed(self, record: AuditRecord) -> None:
        if self.broken is not None:
            return
        expected = self.checked + 1
        if record.seq != expected:
            self.broken = BrokenLink(expected, f"record {expected} is missing")
        elif record.prev_hash != self._prev_hash:
            self.broken = BrokenLink(record.seq, "its prev_hash is not the previous record's hash")
        elif record_hash(record) != record.hash:
            self.broken = BrokenLink(record.seq, "its content no longer matches its hash")
        else:
            self.checked, self._prev_hash = record.seq, record.hash

    def finish(self, head: tuple[int, str] | None) -> BrokenLink | None:
        """The first broken link, also checking the chain's remembered head (last seq, hash)."""
        if self.broken is None and (head or (0, GENESIS_HASH)) != (self.checked, self._prev_hash):
            last = head[0] if head else 0
            self.broken = BrokenLink(
                self.checked + 1, f"the chain ends at {self.checked}; its head says {last}"
            )
        return self.broken
