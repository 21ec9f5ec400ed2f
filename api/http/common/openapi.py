"""The OpenAPI document and its interactive UI, served at ``/schema``.

``/schema`` (and ``/schema/swagger``) is Swagger UI; ``/schema/openapi.json`` is the OpenAPI 3.1
document. The UI's JavaScript, stylesheet and icon are served by the application itself from
``api/http/common/static/swagger-ui`` (vendored from the npm package ``swagger-ui-dist``; its
README says how to update it): nothing comes from a CDN, so the page works offline.

What Litestar cannot generate — response headers, links, closed request bodies — is added to the
generated document by ``api.http.common.openapi_document``.

Error responses are documented per operation with :func:`problems`: the statuses its
authentication, guards and parameters can produce, plus the ledger error codes its use case can
raise (each adds its status from :data:`api.http.common.errors.STATUS_BY_CODE` and an example with
its stable
problem ``type``). Every error is an RFC 9457 ``application/problem+json`` body, the
:class:`api.http.common.errors.Problem` struct.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec
from litestar import Router
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    License,
    SecurityScheme,
)
from litestar.static_files import create_static_files_router

from api.http.common.database_errors import FAILURES
from api.http.common.errors import PROBLEM_JSON, STATUS_BY_CODE, Problem, problem_response
from api.http.common.openapi_names import operation_id, tags
from ledger.books.rules import ENTRY_CHECKS, OnCounters

SCHEMA_PATH = "/schema"
ASSETS_PATH = f"{SCHEMA_PATH}/assets"
SWAGGER_UI_DIR = Path(__file__).parent / "static" / "swagger-ui"
"""Swagger UI's distribution files (swagger-ui-dist, Apache-2.0), served at :data:`ASSETS_PATH`."""

# Statuses every operation under ``/api/v1`` can answer: a malformed request, a missing or bad
# token, too many requests (the per-token rate limit).
API = (400, 401, 429)
# ... and under ``/api/v1/communities/{slug}``: a community the token may not enter is 404.
COMMUNITY = (*API, 404)
# Writes that take an ``Idempotency-Key``: a different request under a used key, or a retry while
# the first is still in flight, is a conflict.
IDEMPOTENT = ("idempotency_conflict", "idempotency_in_flight")
# What the posting rules can refuse in a new entry (transfers, general entries, batch items), in
# their order of precedence.
ENTRY_RULES = tuple(code for code, _ in ENTRY_CHECKS)
# What completing a pending entry (or an exchange) can refuse: the checks on the new counters.
COMPLETION = (
    "entry_not_found",
    "entry_not_pending",
    *(code for code, check in ENTRY_CHECKS if isinstance(check, OnCounters)),
)

_GENERIC: dict[int, tuple[str, str, str]] = {
    400: (
        "The request is malformed: a parameter, header or body does not fit its schema "
        "(`errors` lists the fields)",
        "invalid_request",
        "Validation failed for POST /api/v1/communities/garden-club/transfers",
    ),
    401: (
        "No bearer token, or one that is unknown, revoked or expired",
        "unauthorized",
        "a bearer token is required",
    ),
    403: (
        "The token lacks the scope this needs, or is a member token where none may act",
        "forbidden",
        "this needs the treasurer scope",
    ),
    404: (
        "The community, or the resource in it, does not exist or is not visible to this token",
        "not_found",
        "community 'garden-club' does not exist",
    ),
    409: ("The request conflicts with the ledger's state", "", ""),
    413: (
        "The request body is larger than the server accepts",
        "request_too_large",
        "Request Entity Too Large",
    ),
    422: ("The request is well-formed but breaks a ledger rule", "", ""),
    429: (
        "Too many requests with this token this minute; retry after `Retry-After` seconds",
        "too_many_requests",
        "Too many requests",
    ),
    503: (
        "The database is unavailable, out of connections or too slow; retry after "
        "`Retry-After` seconds (nothing was written)",
        "database_unavailable",
        FAILURES["database_unavailable"].detail,
    ),
}
"""Per status: the response's description, and the code and detail of its generic example
(none for 409 and 422, which always come from a ledger error code)."""

EXAMPLE_DETAILS: dict[str, str] = {
    "community_not_found": "community 'garden-club' does not exist",
    "account_not_found": "account 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "entry_not_found": "entry 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "member_not_found": "member 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "commodity_not_found": "commodity 'EUR' does not exist",
    "credential_not_found": "credential 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "community_exists": "community 'garden-club' already exists",
    "commodity_exists": "commodity 'EUR' already exists",
    "account_code_exists": "account code 'assets:cash' already exists",
    "invalid_input": "name must be 1–200 characters of text",
    "invalid_amount": "posting 0: amount must be a non-zero integer within ±9007199254740991",
    "too_few_postings": "an entry needs at least 2 postings, got 1",
    "unbalanced": "the postings in Hours do not sum to zero: debits exceed credits by 30 min",
    "same_account": "this entry takes from and gives to the same account, so it would change "
    "no balance: a transfer needs two different accounts",
    "account_closed": "account 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is closed",
    "account_guarded": "account 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is the emergency fund's: "
    "money leaves it only through a disbursement the stewards approve",
    "limit_exceeded": "Hours of Bob Gardener would fall to \u221211 h, counting pending "
    "entries, below its limit of \u221210 h",
    "limits_violated_by_balance": "Hours of Bob Gardener would fall to \u22121 h 30 min, "
    "counting pending entries, below its limit of 0 min",
    "account_has_pending": "account 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f has pending entries; "
    "post or void them first",
    "account_has_balance": "account 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f holds 90 HOURS; move it "
    "to another account before closing it",
    "counter_overflow": "account 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f: a balance counter would "
    "exceed 9223372036854775807",
    "entry_not_pending": "entry 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is already posted; only a "
    "pending entry completes",
    "entry_not_posted": "entry 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is pending; only a posted "
    "entry can be reversed",
    "entry_already_reversed": "entry 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f was already reversed",
    "idempotency_conflict": "the Idempotency-Key was used with a different request",
    "idempotency_in_flight": "a request with this Idempotency-Key is still being processed",
    "snapshot_exists": "the period 2026-Q3 has a snapshot already",
    "snapshot_not_found": "snapshot 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "webhook_not_found": "webhook 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "monitor_not_found": "monitor 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "url_not_allowed": "the host 'intranet' resolves to 10.0.0.5, which is not a public address",
    "role_holder_token": "only the operator or the member themselves can issue a token for a "
    "current steward or treasurer",
    "not_a_steward": "member 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f holds no current steward term",
    "not_a_treasurer": "member 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f holds no current treasurer "
    "term",
    "self_approval": "the requester of a disbursement can never approve it",
    "role_term_not_found": "role term 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "budget_not_found": "budget 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "disbursement_not_found": "disbursement 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "budget_not_draft": "budget 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is adopted",
    "budget_superseded": "budget 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f was revised already; "
    "revise the newer",
    "consent_missing": "budget 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f lacks the consents the rule "
    "needs",
    "disbursement_not_pending": "disbursement 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f expired at its "
    "deadline 2026-12-01T12:00:00+00:00",
    "fund_not_configured": "the community has designated no emergency-fund account",
    "fund_not_found": "fund 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "schedule_not_found": "schedule 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "schedule_ended": "schedule 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f has ended",
    "schedule_not_active": "schedule 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is paused",
    "schedule_not_paused": "schedule 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is active",
    "link_not_found": "link 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "transfer_not_found": "transfer 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "partner_not_found": "no other community 'hilltop' here",
    "link_version_not_found": "link 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f has no version 3",
    "link_exists": "a link with hilltop is open already",
    "link_not_active": "link 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is suspended: nothing crosses it",
    "link_status_conflict": "link 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f is closed: it cannot be "
    "active",
    "exchange_not_found": "exchange 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not exist",
    "recorder_cannot_confirm": "the member who recorded an exchange cannot confirm or decline it: "
    "the other member does, in their own community",
    "not_party_to_link": "this community is not party to link 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f",
    "commodity_not_carried": "link 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f does not carry EUR",
    "link_limit_exceeded": "this community would owe Hilltop Commons 11 h, over the link's "
    "limit of 10 h",
    "amount_converts_to_zero": "1 EUR converts to 0 CHF",
    "below_minimum_received": "90 converts to 90, less than the least accepted, 100",
    "quote_expired": "transfer 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f expired at "
    "2026-12-05T12:05:00+00:00",
    "transfer_conflict": "transfer 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f exists, not like this",
    "peer_unauthenticated": "the message's signature does not verify",
    "peer_forbidden": "the message is signed with a key not bound to the link",
    "peer_replay_conflict": "transfer 0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f step prepare was "
    "received before with another body",
    "peer_unknown_step": "this node takes no step 'refund'",
    "node_key_missing": "this node has no signing key; run commons-ledger federation node",
    "node_url_missing": "this install has no COMMONS_LEDGER_NODE_URL: no other node can reach it",
    "partner_node_unreachable": "the partner node did not answer: connection refused",
}
"""An example detail for every ledger error code (a test checks none is missing)."""


def _example(status: int, code: str, detail: str) -> Example:
    body = problem_response(status, code, detail).content
    assert isinstance(body, Problem)
    # No ``id``: Litestar would write it into the Example Object, where OpenAPI has no such field.
    return Example(summary=code, value=msgspec.to_builtins(body))


class _SharedSpec(ResponseSpec):
    """A response declared once and never changed: shared, not copied, by every application.

    Litestar deep-copies a router when it is registered, and with it every handler's
    ``responses=``. The problem responses with their examples were half of what was copied
    (5,700 of 11,200 objects; 0.15 s of CPU per application made, and the test suite makes one
    per test); nothing writes to them after declaration, so a copy can be the object itself.
    """

    def __deepcopy__(self, memo: dict[int, object]) -> _SharedSpec:
        return self


def _problem_spec(status: int, codes: list[str]) -> ResponseSpec:
    description, generic_code, generic_detail = _GENERIC[status]
    examples = [_example(status, generic_code, generic_detail)] if generic_code else []
    examples += [
        _example(status, code, EXAMPLE_DETAILS.get(code) or FAILURES[code].detail) for code in codes
    ]
    if codes:
        description += ": " + ", ".join(f"`{code}`" for code in codes)
    return _SharedSpec(
        data_container=Problem,
        generate_examples=False,
        description=description,
        media_type=PROBLEM_JSON,
        examples=examples,
    )


def problems(*statuses: int, codes: Iterable[str] = ()) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a route: a problem-details response for each of ``statuses`` and for
    the status of each ledger error code in ``codes``, with an example per code.

    Every operation also documents 503 (``database_unavailable``, ``statement_timeout``), and a
    write under an idempotency key 409 ``lock_timeout``.

    >>> sorted(problems(*COMMUNITY, codes=["account_not_found", *IDEMPOTENT]))
    [400, 401, 404, 409, 429, 503]
    """
    codes = list(codes)
    # Any operation may meet a database that is down or slow; a write may wait on a lock.
    codes += ["statement_timeout", *(["lock_timeout"] if "idempotency_conflict" in codes else [])]
    by_status: dict[int, list[str]] = {status: [] for status in (*statuses, 503)}
    for code in codes:
        status = STATUS_BY_CODE[code] if code in STATUS_BY_CODE else FAILURES[code].status
        by_status.setdefault(status, []).append(code)
    for status, status_codes in by_status.items():
        if status not in _GENERIC:
            raise ValueError(f"no problem response is defined for status {status}")
        if not status_codes and not _GENERIC[status][1]:
            raise ValueError(f"status {status} needs the ledger error codes that cause it")
    return {status: _problem_spec(status, by_status[status]) for status in sorted(by_status)}


def _asset(name: str) -> str:
    return f"{ASSETS_PATH}/{name}"


def openapi_config() -> OpenAPIConfig:
    swagger = SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=_asset("swagger-ui-bundle.js"),
        css_url=_asset("swagger-ui.css"),
        standalone_preset_js_url=_asset("swagger-ui-standalone-preset.js"),
        favicon=f"<link rel='icon' type='image/png' href='{_asset('favicon-32x32.png')}'>",
    )
    assets = create_static_files_router(
        path=ASSETS_PATH.removeprefix(SCHEMA_PATH),
        directories=[SWAGGER_UI_DIR],
        name="openapi_assets",
        include_in_schema=False,
    )
    return OpenAPIConfig(
        title="Commons Ledger",
        version="1",
        description=(
            "The books of time-banks and cooperatives: hours, money and goods.\n\n"
            "Authenticate with `Authorization: Bearer <token>` (an API key or a member token). "
            "Errors are RFC 9457 `application/problem+json` bodies whose `type` "
            "(`/problems/<code>`) is stable. Lists are paginated: pass `next_cursor` as "
            "`cursor`."
        ),
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API key (scopes read, write, treasurer, admin) or a member "
                    "token",
                )
            }
        ),
        license=License(name="AGPL-3.0-or-later", identifier="AGPL-3.0-or-later"),
        tags=tags(),
        operation_id_creator=operation_id,
        render_plugins=[swagger, JsonRenderPlugin()],
        openapi_router=Router(path=SCHEMA_PATH, route_handlers=[assets], include_in_schema=False),
    )
