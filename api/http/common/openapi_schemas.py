"""Finishing the schemas of the generated OpenAPI document so that generated clients read as if
written by hand (issue 19). The composition root applies :func:`finish_schemas` once.

- A page of items is the component ``<Item>Page`` (``AccountPage``), not
  ``Page_api.http.schemas.AccountOut_``.
- ``Problem.code`` (and a batch item's) is the enum ``ProblemCode``, every code the API answers
  with.
- ``metadata`` is the one ``Metadata`` component, in requests and responses alike.
- A download (PDF, XLSX, CSV, journals) is one string schema per media type, ``format: binary``
  for the binary ones, where Litestar wrote ``oneOf: [string, string]``.
- A ``oneOf`` of one schema (an optional field of a PATCH body) is that schema.
- The operations outside ``/api/v1`` (``/health``, ``/ready``, ``/metrics``) need no token
  (``security: []``) and document the ``4XX`` answers any route can give.
- ``Problem`` declares the extension members a refusal may carry (``balance_after``,
  ``imbalance``… :data:`api.http.common.errors.EXTENSION_MEMBERS`), and every operation that
  takes a JSON body documents the 415 answered to a body not declared JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from api.http.common.errors import (
    EXTENSION_MEMBERS,
    PROBLEM_CODES,
    PROBLEM_JSON,
    problem_response,
)
from api.http.common.strict_body import NOT_JSON

_PAGE = re.compile(r"Page_(?:[\w.]+\.)?(?P<item>\w+?)(?:Out)?_")
_BINARY = ("application/pdf", "application/vnd.openxmlformats-officedocument")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REF = "#/components/schemas/"


def _operations(document: OpenAPI) -> Iterator[tuple[str, Operation]]:
    for path, item in (document.paths or {}).items():
        for method in _METHODS:
            operation = getattr(item, method)
            if isinstance(operation, Operation):
                yield path, operation


def _walk(node: Any, visit: Callable[[Any], None]) -> None:
    """Calls ``visit`` on every spec object under ``node`` (a :class:`Schema`, a media type, a
    parameter…), children first."""
    if isinstance(node, list | tuple):
        for value in node:
            _walk(value, visit)
    elif isinstance(node, dict):
        for value in node.values():
            _walk(value, visit)
    elif is_dataclass(node) and not isinstance(node, Reference):
        for field in fields(node):
            _walk(getattr(node, field.name), visit)
        visit(node)


def _rename_pages(document: OpenAPI, schemas: dict[str, Schema]) -> None:
    renamed = {
        old: f"{found['item']}Page" for old in list(schemas) if (found := _PAGE.fullmatch(old))
    }
    for old, new in renamed.items():
        assert new not in schemas, f"two page schemas would be named {new}"
        page = schemas[new] = schemas.pop(old)
        page.title = new
    refs = {_REF + old: _REF + new for old, new in renamed.items()}

    def visit(node: Any) -> None:
        for field in fields(node):
            value = getattr(node, field.name)
            children = value if isinstance(value, list) else [value]
            if isinstance(value, dict):
                children = list(value.values())
            for child in children:
                if isinstance(child, Reference) and child.ref in refs:
                    child.ref = refs[child.ref]

    _walk(document, visit)


def _collapse_single_one_of(schema: object) -> None:
    if not isinstance(schema, Schema) or schema.one_of is None or len(schema.one_of) != 1:
        return
    (only,) = schema.one_of
    schema.one_of = None
    if isinstance(only, Reference):
        schema.all_of = [only]
        return
    for name, value in vars(only).items():
        if value is not None and getattr(schema, name) is None:
            setattr(schema, name, value)


def _downloads(document: OpenAPI) -> None:
    for _, operation in _operations(document):
        for status, response in (operation.responses or {}).items():
            if not status.startswith("2") or not isinstance(response, OpenAPIResponse):
                continue
            for media_type, media in (response.content or {}).items():
                if "json" not in media_type:
                    binary = media_type.startswith(_BINARY)
                    media.schema = Schema(
                        type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY if binary else None
                    )


def _public(document: OpenAPI, problem: Reference) -> None:
    for path, operation in _operations(document):
        if path.startswith("/api/"):
            continue
        operation.security = []
        responses = operation.responses or {}
        responses["4XX"] = OpenAPIResponse(
            description="The request cannot be served as sent (a method other than GET is 405)",
            content={PROBLEM_JSON: OpenAPIMediaType(schema=problem)},
        )
        operation.responses = responses


def _member_schema(kind: str, description: str) -> Schema:
    uuid = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID)
    found = {
        "uuid": uuid,
        "uuids": Schema(type=OpenAPIType.ARRAY, items=uuid),
        "string": Schema(type=OpenAPIType.STRING),
        "integer": Schema(type=OpenAPIType.INTEGER),
        "by_commodity": Schema(
            type=OpenAPIType.OBJECT, additional_properties=Schema(type=OpenAPIType.INTEGER)
        ),
    }[kind]
    found.description = description
    return found


def _extension_members(problem: Schema) -> None:
    assert problem.properties is not None
    for name, (kind, description) in EXTENSION_MEMBERS.items():
        problem.properties[name] = _member_schema(kind, description)


def _unsupported_media_type(document: OpenAPI, problem: Reference) -> None:
    body = problem_response(415, "unsupported_media_type", NOT_JSON).content
    example = Example(summary="unsupported_media_type", value=msgspec.to_builtins(body))
    for _, operation in _operations(document):
        request = operation.request_body
        content = getattr(request, "content", None) or {}
        if not any("json" in media_type for media_type in content):
            continue
        responses = operation.responses if operation.responses is not None else {}
        responses.setdefault(
            "415",
            OpenAPIResponse(
                description="The body is not declared JSON: send `Content-Type: application/json`",
                content={
                    PROBLEM_JSON: OpenAPIMediaType(
                        schema=problem, examples={"unsupported_media_type": example}
                    )
                },
            ),
        )
        operation.responses = dict(sorted(responses.items()))


METADATA_REF = Reference(ref=_REF + "Metadata")


def finish_schemas(document: OpenAPI, metadata: Schema) -> None:
    """Applies every step of the module to ``document``; ``metadata`` is the ``Metadata``
    component (``api.http.common.openapi_document.METADATA``)."""
    components = document.components
    assert isinstance(components, Components) and components.schemas is not None
    schemas = components.schemas
    _rename_pages(document, schemas)
    schemas["ProblemCode"] = Schema(
        type=OpenAPIType.STRING,
        title="ProblemCode",
        description="The stable code of a problem; its `type` is `/problems/<code with dashes>`",
        enum=list(PROBLEM_CODES),
    )
    # The problem of a request, and of a batch's item.
    for name in ("Problem", "ItemProblem"):
        problem = schemas[name]
        assert problem.properties is not None
        problem.properties["code"] = Reference(ref=_REF + "ProblemCode")
    _extension_members(schemas["Problem"])
    schemas["Metadata"] = metadata
    for schema in schemas.values():
        if isinstance(schema, Schema) and schema.properties and "metadata" in schema.properties:
            schema.properties["metadata"] = METADATA_REF
    _walk(document, _collapse_single_one_of)
    _downloads(document)
    _public(document, Reference(ref=_REF + "Problem"))
    _unsupported_media_type(document, Reference(ref=_REF + "Problem"))
