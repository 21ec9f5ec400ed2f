"""Fingerprints of idempotent requests and the encoding of what they produced.

A write under an idempotency key stores the request's fingerprint and its outcome — the entry,
member or account it wrote, or the rejection it met — in the same transaction as its effect. A
retry with the same request gets that outcome back (the result as it was first returned, or the
same error); a retry with a different request under the same key is an ``idempotency_conflict``.

A request refused by the checks that need no database (malformed fields, fewer than two postings,
a bad amount) never reaches the point of claiming its key: nothing is recorded and the key stays
free, as with payment APIs that save no result for requests that fail validation.
"""

from __future__ import annotations

import hashlib
from typing import Any, Generic, TypeVar

import msgspec

from ledger.books.ports import StoredOutcome
from ledger.kernel import errors

T = TypeVar("T")


class _Outcome(msgspec.Struct, Generic[T], frozen=True, omit_defaults=True):
    value: T | None = None
    error_code: str | None = None
    error_detail: str | None = None
    error_members: dict[str, Any] | None = None


_encoder = msgspec.json.Encoder(order="deterministic")


_decoders: dict[object, msgspec.json.Decoder[Any]] = {}


def _decode(result_type: type[T], data: bytes) -> _Outcome[T]:
    decoder = _decoders.get(result_type)
    if decoder is None:
        decoder = _decoders[result_type] = msgspec.json.Decoder(_Outcome[result_type])  # type: ignore[valid-type]
    outcome: _Outcome[T] = decoder.decode(data)
    return outcome


def fingerprint(operation: str, request: object) -> str:
    """SHA-256 over a canonical JSON form of the operation name and its request."""
    try:
        canonical = _encoder.encode([operation, request])
    except (TypeError, msgspec.EncodeError) as exc:
        raise errors.InvalidInput(f"request is not JSON-serialisable: {exc}") from None
    return hashlib.sha256(canonical).hexdigest()


def encode_result(value: object) -> bytes:
    return _encoder.encode(_Outcome(value=value))


def encode_rejection(error: errors.LedgerError) -> bytes:
    return _encoder.encode(
        _Outcome(
            error_code=error.code, error_detail=error.detail, error_members=error.members or None
        )
    )


def replay(stored: StoredOutcome, request_fingerprint: str, result_type: type[T]) -> T:
    """The stored outcome of an earlier request under the same key: its result, or its error
    raised again. A different request under the key raises ``IdempotencyConflict``."""
    if stored.fingerprint != request_fingerprint:
        raise errors.IdempotencyConflict(
            "this idempotency key was already used with a different request"
        )
    assert stored.result is not None, "a committed idempotency key always has its result"
    outcome = _decode(result_type, stored.result)
    if outcome.value is not None:
        return outcome.value
    assert outcome.error_code is not None
    raise errors.from_code(outcome.error_code, outcome.error_detail or "", outcome.error_members)
