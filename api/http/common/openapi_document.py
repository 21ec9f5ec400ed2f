"""Finishing the generated OpenAPI document: what Litestar's route declarations cannot say.

The composition root applies each of these once to ``app.openapi_schema``: the headers the
middleware adds to responses, the links from a created resource to what a client can do next,
and ``additionalProperties: false`` (with the metadata constraints) on request bodies.
"""

from __future__ import annotations

from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from api.http import schemas
from ledger.kernel.model import AMOUNT_ABS_MAX


def _header(description: str, *, integer: bool = False, required: bool = True) -> OpenAPIHeader:
    kind = OpenAPIType.INTEGER if integer else OpenAPIType.STRING
    return OpenAPIHeader(schema=Schema(type=kind), description=description, required=required)


RESPONSE_HEADERS: dict[str, OpenAPIHeader] = {
    "X-Request-ID": _header("This request's id, as written in the server's log line for it"),
    "WWW-Authenticate": _header("The scheme to authenticate with: `Bearer`"),
    "Retry-After": _header("Seconds until the rate limit lets this token in again", integer=True),
    "RateLimit-Policy": _header("The rate limit: `<requests>; w=<seconds>`", required=False),
    "RateLimit-Limit": _header("Requests allowed per window", integer=True, required=False),
    "RateLimit-Remaining": _header("Requests left in this window", integer=True, required=False),
    "RateLimit-Reset": _header(
        "Seconds until the window starts afresh", integer=True, required=False
    ),
}
"""Headers the middleware adds to responses, which Litestar's response specs cannot declare.
The ``RateLimit-*`` headers come with every response under ``/api/v1`` when a rate limit is
configured (``COMMONS_LEDGER_RATE_LIMIT_PER_S``, not 0)."""

_RATE_LIMIT = ("RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def _headers_of(path: str, status: str) -> list[str]:
    names = ["X-Request-ID"]
    if path.startswith("/api/"):
        names += _RATE_LIMIT
    if status == "401":
        names.append("WWW-Authenticate")
    if status == "429":
        names.append("Retry-After")
    return names


def document_response_headers(document: OpenAPI) -> None:
    """Adds :data:`RESPONSE_HEADERS` to every response of ``document`` that carries them."""
    components = document.components
    assert isinstance(components, Components)
    components.headers = {**(components.headers or {}), **RESPONSE_HEADERS}
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            operation = getattr(item, method)
            for status, response in (operation.responses or {}).items() if operation else ():
                if not isinstance(response, OpenAPIResponse):
                    continue
                refs = {
                    name: Reference(ref=f"#/components/headers/{name}")
                    for name in _headers_of(path, status)
                }
                response.headers = {**(response.headers or {}), **refs}


_C = "/api/v1/communities/{slug}"
_IN_COMMUNITY = {"slug": "$request.path.slug"}
_ACCOUNT = {
    "readAccount": ("GET", f"{_C}/accounts/{{account_id}}"),
    "readBalance": ("GET", f"{_C}/accounts/{{account_id}}/balance"),
    "readStatement": ("GET", f"{_C}/accounts/{{account_id}}/postings"),
}
_ENTRY = {
    "readEntry": ("GET", f"{_C}/entries/{{entry_id}}"),
    "postPending": ("POST", f"{_C}/entries/{{entry_id}}/post"),
    "voidPending": ("POST", f"{_C}/entries/{{entry_id}}/void"),
    "reverse": ("POST", f"{_C}/entries/{{entry_id}}/reverse"),
}
_EXCHANGE = {
    "readExchange": ("GET", f"{_C}/exchanges/{{exchange_id}}"),
    "confirm": ("POST", f"{_C}/exchanges/{{exchange_id}}/confirm"),
    "decline": ("POST", f"{_C}/exchanges/{{exchange_id}}/decline"),
}
LINKS: dict[tuple[str, str], tuple[dict[str, tuple[str, str]], dict[str, str]]] = {
    ("POST", "/api/v1/communities"): (
        {"readCommunity": ("GET", _C)},
        {"slug": "$response.body#/slug"},
    ),
    ("POST", f"{_C}/members"): (
        {
            "readMember": ("GET", f"{_C}/members/{{member_id}}"),
            "issueMemberToken": ("POST", f"{_C}/members/{{member_id}}/tokens"),
        },
        {**_IN_COMMUNITY, "member_id": "$response.body#/id"},
    ),
    ("GET", f"{_C}/members/{{member_id}}"): (
        _ACCOUNT,
        {**_IN_COMMUNITY, "account_id": "$response.body#/hours_account_id"},
    ),
    ("POST", f"{_C}/accounts"): (
        {**_ACCOUNT, "updateAccount": ("PATCH", f"{_C}/accounts/{{account_id}}")},
        {**_IN_COMMUNITY, "account_id": "$response.body#/id"},
    ),
    ("POST", f"{_C}/transfers"): (_ENTRY, {**_IN_COMMUNITY, "entry_id": "$response.body#/id"}),
    ("POST", f"{_C}/entries"): (_ENTRY, {**_IN_COMMUNITY, "entry_id": "$response.body#/id"}),
    ("POST", f"{_C}/entries/{{entry_id}}/reverse"): (
        {"readEntry": _ENTRY["readEntry"]},
        {**_IN_COMMUNITY, "entry_id": "$response.body#/id"},
    ),
    ("POST", f"{_C}/exchanges"): (
        _EXCHANGE,
        {**_IN_COMMUNITY, "exchange_id": "$response.body#/id"},
    ),
    ("POST", f"{_C}/webhooks"): (
        {
            "readWebhook": ("GET", f"{_C}/webhooks/{{webhook_id}}"),
            "readDeliveries": ("GET", f"{_C}/webhooks/{{webhook_id}}/deliveries"),
            "resumeWebhook": ("POST", f"{_C}/webhooks/{{webhook_id}}/resume"),
            "deleteWebhook": ("DELETE", f"{_C}/webhooks/{{webhook_id}}"),
        },
        {**_IN_COMMUNITY, "webhook_id": "$response.body#/id"},
    ),
    ("POST", f"{_C}/monitors"): (
        {
            "readMonitor": ("GET", f"{_C}/monitors/{{monitor_id}}"),
            "deleteMonitor": ("DELETE", f"{_C}/monitors/{{monitor_id}}"),
        },
        {**_IN_COMMUNITY, "monitor_id": "$response.body#/id"},
    ),
    ("POST", f"{_C}/funds"): (
        {
            "readFund": ("GET", f"{_C}/funds/{{fund_id}}"),
            "recordFundIncome": ("POST", f"{_C}/funds/{{fund_id}}/income"),
            "spendFromFund": ("POST", f"{_C}/funds/{{fund_id}}/spend"),
        },
        {**_IN_COMMUNITY, "fund_id": "$response.body#/id"},
    ),
    ("POST", f"{_C}/barters"): (
        {"readBarter": ("GET", f"{_C}/barters/{{barter_id}}")},
        {**_IN_COMMUNITY, "barter_id": "$response.body#/id"},
    ),
    ("POST", f"{_C}/schedules"): (
        {
            "readSchedule": ("GET", f"{_C}/schedules/{{schedule_id}}"),
            "listOccurrences": ("GET", f"{_C}/schedules/{{schedule_id}}/occurrences"),
            "pauseSchedule": ("POST", f"{_C}/schedules/{{schedule_id}}/pause"),
            "endSchedule": ("POST", f"{_C}/schedules/{{schedule_id}}/end"),
        },
        {**_IN_COMMUNITY, "schedule_id": "$response.body#/id"},
    ),
}
"""OpenAPI links: what a client can do next with the resource a response returns (the target
operations, and where their path parameters come from)."""


def document_links(document: OpenAPI) -> None:
    """Adds :data:`LINKS` to the success response of each source operation."""
    paths = document.paths or {}

    def operation(method: str, path: str) -> Operation:
        found = getattr(paths[path], method.lower())
        assert isinstance(found, Operation), (method, path)
        return found

    for (method, path), (targets, parameters) in LINKS.items():
        source = operation(method, path)
        status, response = next(
            (status, response)
            for status, response in (source.responses or {}).items()
            if status.startswith("2")
        )
        assert isinstance(response, OpenAPIResponse), (method, path, status)
        response.links = {
            name: Link(
                operation_id=operation(*target).operation_id,
                parameters={
                    key: value for key, value in parameters.items() if "{" + key + "}" in target[1]
                },
            )
            for name, target in targets.items()
        }


METADATA = Schema(
    type=OpenAPIType.OBJECT,
    title="Metadata",
    description="Flat: under each key, text, a whole number, true/false or null",
    max_properties=schemas.METADATA_KEYS_MAX,
    property_names=Schema(
        type=OpenAPIType.STRING,
        min_length=1,
        max_length=schemas.METADATA_KEY_LENGTH_MAX,
        pattern=schemas.NO_NUL,
    ),
    additional_properties=Schema(
        one_of=[
            Schema(
                type=OpenAPIType.STRING,
                max_length=schemas.METADATA_TEXT_LENGTH_MAX,
                pattern=schemas.NO_NUL,
            ),
            Schema(type=OpenAPIType.INTEGER, minimum=-AMOUNT_ABS_MAX, maximum=AMOUNT_ABS_MAX),
            Schema(type=OpenAPIType.BOOLEAN),
            Schema(type=OpenAPIType.NULL),
        ]
    ),
    examples=[{"month": "2026-11", "shift": 3}],
)
"""The ``metadata`` of entries, in requests and responses (the ``Metadata`` component), with the
constraints Litestar leaves out of its schema."""


def _closed(schema: Schema | Reference, components: dict[str, Schema], seen: set[str]) -> None:
    if isinstance(schema, Reference):
        name = schema.ref.rsplit("/", 1)[-1]
        if name in seen or name not in components:
            return
        seen.add(name)
        schema = components[name]
    if schema.properties is not None and schema.additional_properties is None:
        schema.additional_properties = False
    children = [
        *(schema.properties or {}).values(),
        *([schema.items] if isinstance(schema.items, Schema | Reference) else []),
        *(schema.one_of or []),
        *(schema.any_of or []),
        *(schema.all_of or []),
    ]
    for child in children:
        _closed(child, components, seen)


def forbid_unknown_request_fields(document: OpenAPI) -> None:
    """Marks every object of every request body ``additionalProperties: false``: the request
    structs refuse unknown fields (``api.http.schemas.Request``), and clients should be told so."""
    components = document.components
    assert isinstance(components, Components)
    schemas = components.schemas or {}
    seen: set[str] = set()
    for item in (document.paths or {}).values():
        for method in ("put", "post", "patch"):
            operation = getattr(item, method)
            body = operation.request_body if operation else None
            if body is None or isinstance(body, Reference):
                continue
            for media in body.content.values():
                if media.schema is not None:
                    _closed(media.schema, schemas, seen)
