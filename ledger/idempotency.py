"""Fingerprints of idempotent requests and the encoding of what they produced.

A write under an idempotency key stores the request's fingerprint and its outcome — the entry it
wrote, or the rejection it met — in the same transaction as its postings. A retry with the same
request gets that outcome back (the entry as it was first returned, or the same error); a retry
with a different request under the same key is an ``idempotency_conflict``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import msgspec

from ledger import errors
from ledger.model import Entry
from ledger.ports import StoredOutcome


@dataclass(frozen=True, slots=True)
class _Outcome:
    entry: Entry | None = None
    error_code: str | None = None
    error_detail: str | None = None


_encoder = msgspec.json.Encoder(order="deterministic")
_decoder = msgspec.json.Decoder(_Outcome)


def fingerprint(operation: str, request: object) -> str:
    """SHA-256 over a canonical JSON form of the operation name and its request."""
    try:
        canonical = _encoder.encode([operation, request])
    except (TypeError, msgspec.EncodeError) as exc:
        raise errors.InvalidInput(f"request is not JSON-serialisable: {exc}") from None
    return hashlib.sha256(canonical).hexdigest()


def encode_entry(entry: Entry) -> bytes:
    return _encoder.encode(_Outcome(entry=entry))


def encode_rejection(error: errors.LedgerError) -> bytes:
    return _encoder.encode(_Outcome(error_code=error.code, error_detail=error.detail))


def replay(stored: StoredOutcome, request_fingerprint: str) -> Entry:
    """The stored outcome of an earlier request under the same key: its entry, or its error
    raised again. A different request under the key raises ``IdempotencyConflict``."""
    if stored.fingerprint != request_fingerprint:
        raise errors.IdempotencyConflict(
            "this idempotency key was already used with a different request"
        )
    assert stored.result is not None, "a committed idempotency key always has its result"
    outcome = _decoder.decode(stored.result)
    if outcome.entry is not None:
        return outcome.entry
    assert outcome.error_code is not None
    raise errors.from_code(outcome.error_code, outcome.error_detail or "")
