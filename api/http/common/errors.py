"""Errors as RFC 9457 problem details: the one place that knows HTTP status codes.

Every ledger error code maps to a status and a stable problem ``type`` (``/problems/<code>`` with
dashes, e.g. ``/problems/limit-exceeded``). A body never carries anything specific to one
request (the request id travels in a header), so an idempotent replay of a rejection is
byte-for-byte the first response.
"""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from api.http.common.database_errors import FAILURES, RETRY_AFTER_S, classify
from api.http.common.problem_errors import ProblemError, from_litestar
from ledger.kernel import errors

PROBLEM_JSON = "application/problem+json"
RATE_LIMIT_RESET = "RateLimit-Reset"

STATUS_BY_CODE: dict[str, int] = {
    "community_not_found": HTTP_404_NOT_FOUND,
    "account_not_found": HTTP_404_NOT_FOUND,
    "entry_not_found": HTTP_404_NOT_FOUND,
    "member_not_found": HTTP_404_NOT_FOUND,
    "commodity_not_found": HTTP_404_NOT_FOUND,
    "credential_not_found": HTTP_404_NOT_FOUND,
    "community_exists": HTTP_409_CONFLICT,
    "commodity_exists": HTTP_409_CONFLICT,
    "account_code_exists": HTTP_409_CONFLICT,
    "invalid_input": HTTP_422_UNPROCESSABLE_ENTITY,
    "invalid_amount": HTTP_422_UNPROCESSABLE_ENTITY,
    "too_few_postings": HTTP_422_UNPROCESSABLE_ENTITY,
    "unbalanced": HTTP_422_UNPROCESSABLE_ENTITY,
    "same_account": HTTP_422_UNPROCESSABLE_ENTITY,
    "account_closed": HTTP_409_CONFLICT,
    "account_guarded": HTTP_409_CONFLICT,
    "limit_exceeded": HTTP_422_UNPROCESSABLE_ENTITY,
    "limits_violated_by_balance": HTTP_409_CONFLICT,
    "account_has_pending": HTTP_409_CONFLICT,
    "account_has_balance": HTTP_409_CONFLICT,
    "counter_overflow": HTTP_422_UNPROCESSABLE_ENTITY,
    "entry_not_pending": HTTP_409_CONFLICT,
    "entry_not_posted": HTTP_409_CONFLICT,
    "entry_already_reversed": HTTP_409_CONFLICT,
    "idempotency_conflict": HTTP_409_CONFLICT,
    "idempotency_in_flight": HTTP_409_CONFLICT,
    "snapshot_exists": HTTP_409_CONFLICT,
    "snapshot_not_found": HTTP_404_NOT_FOUND,
    "webhook_not_found": HTTP_404_NOT_FOUND,
    "monitor_not_found": HTTP_404_NOT_FOUND,
    "url_not_allowed": HTTP_422_UNPROCESSABLE_ENTITY,
    "role_holder_token": HTTP_403_FORBIDDEN,
    # Governance (ledger.governance)
    "not_a_steward": HTTP_403_FORBIDDEN,
    "not_a_treasurer": HTTP_403_FORBIDDEN,
    "self_approval": HTTP_403_FORBIDDEN,
    "role_term_not_found": HTTP_404_NOT_FOUND,
    "budget_not_found": HTTP_404_NOT_FOUND,
    "disbursement_not_found": HTTP_404_NOT_FOUND,
    "budget_not_draft": HTTP_409_CONFLICT,
    "budget_superseded": HTTP_409_CONFLICT,
    "consent_missing": HTTP_409_CONFLICT,
    "disbursement_not_pending": HTTP_409_CONFLICT,
    "fund_not_configured": HTTP_409_CONFLICT,
    "fund_not_found": HTTP_404_NOT_FOUND,
    "schedule_not_found": HTTP_404_NOT_FOUND,
    "schedule_ended": HTTP_409_CONFLICT,
    "schedule_not_active": HTTP_409_CONFLICT,
    "schedule_not_paused": HTTP_409_CONFLICT,
    # Federation (ledger.federation)
    "link_not_found": HTTP_404_NOT_FOUND,
    "transfer_not_found": HTTP_404_NOT_FOUND,
    "partner_not_found": HTTP_404_NOT_FOUND,
    "link_version_not_found": HTTP_404_NOT_FOUND,
    "link_exists": HTTP_409_CONFLICT,
    "link_not_active": HTTP_409_CONFLICT,
    "link_status_conflict": HTTP_409_CONFLICT,
    "not_party_to_link": HTTP_403_FORBIDDEN,
    "exchange_not_found": HTTP_404_NOT_FOUND,
    "recorder_cannot_confirm": HTTP_403_FORBIDDEN,
    "commodity_not_carried": HTTP_422_UNPROCESSABLE_ENTITY,
    "link_limit_exceeded": HTTP_422_UNPROCESSABLE_ENTITY,
    "amount_converts_to_zero": HTTP_422_UNPROCESSABLE_ENTITY,
    "below_minimum_received": HTTP_422_UNPROCESSABLE_ENTITY,
    "quote_expired": HTTP_409_CONFLICT,
    "transfer_conflict": HTTP_409_CONFLICT,
    # Federation between installs (ledger.federation.messages, .peering, .identity)
    "peer_unauthenticated": HTTP_401_UNAUTHORIZED,
    "peer_forbidden": HTTP_403_FORBIDDEN,
    "peer_replay_conflict": HTTP_409_CONFLICT,
    "peer_unknown_step": HTTP_422_UNPROCESSABLE_ENTITY,
    "node_key_missing": HTTP_503_SERVICE_UNAVAILABLE,
    "node_url_missing": HTTP_503_SERVICE_UNAVAILABLE,
    "partner_node_unreachable": HTTP_503_SERVICE_UNAVAILABLE,
}
"""Status of every ledger error code; a test checks that no code is missing."""

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem: ``type`` is stable per kind of error, ``detail`` is for humans."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemError] = msgspec.field(default_factory=list)
    """With ``invalid_request``: each field of the request that does not fit."""


_SMALLEST = "in the commodity's smallest unit (minutes for HOURS, cents for EUR)"

EXTENSION_MEMBERS: dict[str, tuple[str, str]] = {
    "account_id": ("uuid", "The account the refusal is about"),
    "account_ids": ("uuids", "The accounts the entry names"),
    "commodity": ("string", "The code of the commodity the amounts are in"),
    "balance_after": (
        "integer",
        f"The balance the write would leave, pending entries counted, {_SMALLEST}",
    ),
    "balance_min": ("integer", f"The account's lowest allowed balance, {_SMALLEST}"),
    "balance_max": ("integer", f"The account's highest allowed balance, {_SMALLEST}"),
    "imbalance": (
        "by_commodity",
        f"Per commodity whose postings do not sum to zero, their sum (debits positive), "
        f"{_SMALLEST}",
    ),
    "available": (
        "integer",
        f"What the emergency fund holds available, pending requests counted, {_SMALLEST}",
    ),
    "requested": ("integer", f"The amount requested, {_SMALLEST}"),
    "owed": ("integer", f"What one community would owe the other over the link, {_SMALLEST}"),
    "limit": ("integer", f"The link's limit on what may be owed that way, {_SMALLEST}"),
}
"""The RFC 9457 extension members a refusal may carry beside ``detail`` (the same facts for
programs, ``LedgerError.members``), by name: (kind, description). The OpenAPI document declares
each on ``Problem``; a test checks that the ledger sends no other."""


def problem_type(code: str) -> str:
    return f"/problems/{code.replace('_', '-')}"


def problem_response(
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    extra_errors: list[ProblemError] | None = None,
) -> Response[Problem]:
    body = Problem(
        type=problem_type(code),
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        errors=extra_errors or [],
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def ledger_error_response(error: errors.LedgerError) -> Response[Problem]:
    return problem_response(
        STATUS_BY_CODE.get(error.code, HTTP_400_BAD_REQUEST), error.code, error.detail
    )


def _on_ledger_error(
    _: Request[Any, Any, Any], error: errors.LedgerError
) -> Response[Problem] | Response[dict[str, Any]]:
    response = ledger_error_response(error)
    if not error.members:
        return response
    # RFC 9457 extension members: the detail's facts for programs (ids, raw integers in the
    # smallest unit), beside the standard members, which they never replace. In name order, as
    # a stored rejection keeps them, so that a replay is byte for byte the first answer.
    body = msgspec.to_builtins(response.content)
    body |= {name: error.members[name] for name in sorted(error.members) if name not in body}
    return Response(body, status_code=response.status_code, media_type=PROBLEM_JSON)


def _on_validation(_: Request[Any, Any, Any], error: ValidationException) -> Response[Problem]:
    extra = from_litestar(error.extra) if isinstance(error.extra, list) else []
    return problem_response(
        HTTP_400_BAD_REQUEST, "invalid_request", error.detail, extra_errors=extra or None
    )


_CODES_BY_STATUS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}


PROBLEM_CODES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *STATUS_BY_CODE,
            *FAILURES,
            "invalid_request",
            *_CODES_BY_STATUS.values(),
            "internal_error",
        ]
    )
)
"""Every ``code`` a problem can carry (the OpenAPI document's ``ProblemCode``)."""


def _on_http(_: Request[Any, Any, Any], error: HTTPException) -> Response[Problem]:
    status = error.status_code
    code = _CODES_BY_STATUS.get(status, "invalid_request" if status < 500 else "internal_error")
    headers = dict(error.headers or {})
    if status == HTTP_429_TOO_MANY_REQUESTS:
        # RFC 9110's header for when to come back; the rate limiter only sends RateLimit-Reset.
        headers["Retry-After"] = headers.get(RATE_LIMIT_RESET, "60")
    return problem_response(status, code, error.detail, headers=headers or None)


def _on_crash(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    structlog.get_logger("api").exception("unhandled error", path=request.url.path)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "An unexpected error occurred."
    )


def _on_database(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    """A database that is down or too slow answers 503 (or 409 for a lock) with Retry-After;
    anything else from the driver is a crash."""
    failure = classify(error)
    if failure is None:
        return _on_crash(request, error)
    structlog.get_logger("api").warning(
        "database unavailable", code=failure.code, error=f"{type(error).__name__}: {error}"[:300]
    )
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    return problem_response(failure.status, failure.code, failure.detail, headers=headers)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    errors.LedgerError: _on_ledger_error,
    ValidationException: _on_validation,
    HTTPException: _on_http,
    sa.exc.SQLAlchemyError: _on_database,
    OSError: _on_database,
    TimeoutError: _on_database,
    Exception: _on_crash,
}
