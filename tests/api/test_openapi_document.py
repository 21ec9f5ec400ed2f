"""What a client generated from the OpenAPI document looks like (issue 19): short, stable names
per operation and tag, named enums, typed downloads and metadata, one error-item schema, and the
small things linters flag. ``scripts/client_check`` generates the clients themselves."""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.http.common.location import location
from api.http.common.openapi_names import OPERATION_ID_LENGTH_MAX, OPERATION_ID_PATTERN, TAGS
from api.settings import Settings
from tests.api.conftest import ADMIN, ADMIN_TOKEN, Tenant
from tests.databases import sqlite_url

Doc = dict[str, Any]
_METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Doc:
    url = sqlite_url(tmp_path_factory.mktemp("openapi") / "unused.db")
    app: Litestar = create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN))
    schema: Doc = app.openapi_schema.to_schema()
    return schema


def _operations(document: Doc) -> Iterator[tuple[str, str, Doc]]:
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def test_every_operation_has_a_short_unique_camel_case_id_and_a_declared_tag(
    document: Doc,
) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids))
    for method, path, operation in _operations(document):
        name = operation["operationId"]
        assert OPERATION_ID_PATTERN.fullmatch(name), (method, path, name)
        assert len(name) <= OPERATION_ID_LENGTH_MAX, (method, path, name)
        assert len(operation.get("tags", [])) == 1, (method, path)
        assert operation["tags"][0] in TAGS, (method, path)
    assert [tag["name"] for tag in document["tags"]] == list(TAGS)
    assert {tag for _, _, op in _operations(document) for tag in op["tags"]} == set(TAGS)
    # The names read as the use case, whatever the path.
    paths = document["paths"]
    confirm = paths["/api/v1/communities/{slug}/exchanges/{exchange_id}/confirm"]["post"]
    assert confirm["operationId"] == "confirmExchange"
    assert paths["/api/v1/communities/{slug}/accounts"]["get"]["operationId"] == "listAccounts"


def test_info_names_the_licence(document: Doc) -> None:
    assert document["info"]["license"] == {
        "name": "AGPL-3.0-or-later",
        "identifier": "AGPL-3.0-or-later",
    }


def _schemas(document: Doc) -> Doc:
    schemas: Doc = document["components"]["schemas"]
    return schemas


def _ref(name: str) -> Doc:
    return {"$ref": f"#/components/schemas/{name}"}


def test_closed_value_lists_are_named_enums_shared_by_requests_and_responses(
    document: Doc,
) -> None:
    schemas = _schemas(document)
    for name in ("AccountType", "EntryStatus", "ExchangeStatus", "Scope", "Role", "ProblemCode"):
        assert schemas[name]["type"] == "string" and schemas[name]["enum"], name
    # One enum, the request's and the response's.
    assert schemas["AccountCreate"]["properties"]["type"]["$ref"].endswith("/AccountType")
    assert schemas["AccountOut"]["properties"]["type"] == _ref("AccountType")
    assert schemas["MonitorCreate"]["properties"]["direction"]["$ref"].endswith("/MonitorDirection")
    assert schemas["MonitorOut"]["properties"]["direction"] == _ref("MonitorDirection")
    assert schemas["Problem"]["properties"]["code"] == _ref("ProblemCode")
    assert schemas["ItemProblem"]["properties"]["code"] == _ref("ProblemCode")
    assert {"invalid_request", "limit_exceeded", "database_unavailable", "unauthorized"} <= set(
        schemas["ProblemCode"]["enum"]
    )
    # No field of a response is a bare string where the values are closed.
    for name in ("EntryOut", "ExchangeOut", "BudgetOut", "DisbursementOut", "ScheduleOut"):
        assert "$ref" in schemas[name]["properties"]["status"], name
    # A nullable enum is the enum or null, read once by generators.
    exchanges = document["paths"]["/api/v1/communities/{slug}/exchanges"]["get"]
    status = next(p for p in exchanges["parameters"] if p["name"] == "status")
    assert status["schema"]["oneOf"] == [_ref("ExchangeStatus"), {"type": "null"}]
    template = schemas["CommunityCreate"]["properties"]["template"]
    assert template["oneOf"] == [_ref("ChartTemplate"), {"type": "null"}]


def test_every_problem_code_the_api_answers_is_in_the_enum(document: Doc) -> None:
    codes = set(_schemas(document)["ProblemCode"]["enum"])
    examples = {
        example["value"]["code"]
        for _, _, operation in _operations(document)
        for response in operation["responses"].values()
        for media in response.get("content", {}).values()
        for example in media.get("examples", {}).values()
        if isinstance(example.get("value"), dict) and "code" in example["value"]
    }
    assert examples - {"ok"} <= codes


def test_downloads_are_one_string_schema_per_media_type(document: Doc) -> None:
    seen = set()
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                if not status.startswith("2") or "json" in media_type:
                    continue
                seen.add(media_type)
                binary = media_type in {
                    "application/pdf",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                }
                expected = {"type": "string", "format": "binary"} if binary else {"type": "string"}
                assert media["schema"] == expected, (method, path, media_type)
    assert {"application/pdf", "text/html", "text/csv"} <= seen


def test_metadata_is_one_typed_schema_in_and_out(document: Doc) -> None:
    schemas = _schemas(document)
    assert schemas["EntryOut"]["properties"]["metadata"] == _ref("Metadata")
    assert schemas["TransferCreate"]["properties"]["metadata"] == _ref("Metadata")
    values = schemas["Metadata"]["additionalProperties"]["oneOf"]
    assert {value["type"] for value in values} == {"string", "integer", "boolean", "null"}


def test_no_single_schema_one_of_and_pages_named_after_their_items(document: Doc) -> None:
    text = str(document)
    assert "Page_" not in text
    assert "AccountPage" in _schemas(document)
    patch = _schemas(document)["AccountPatch"]["properties"]
    assert patch["name"]["type"] == "string" and "oneOf" not in patch["name"]
    assert patch["closed"] == {"type": "boolean", "examples": [False]}

    def single(node: object) -> bool:
        if isinstance(node, dict):
            one_of = node.get("oneOf")
            return (isinstance(one_of, list) and len(one_of) == 1) or any(
                single(value) for value in node.values()
            )
        return isinstance(node, list) and any(single(value) for value in node)

    assert not single(document)


def test_the_operator_routes_need_no_token_and_document_4xx(document: Doc) -> None:
    for path in ("/health", "/ready", "/metrics"):
        operation = document["paths"][path]["get"]
        assert operation["security"] == []
        assert any(status.startswith("4") for status in operation["responses"]), path


async def test_problem_errors_point_at_the_body_query_or_path_field(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    headers = tenant.treasurer
    body = await client.post(
        f"{tenant.base}/transfers",
        json={
            "debit_account_id": str(uuid.uuid4()),
            "credit_account_id": str(uuid.uuid4()),
            "amount": 1.5,
            "description": "x",
        },
        headers=headers,
    )
    assert body.status_code == 400
    assert body.json()["errors"] == [
        {"source": "body", "pointer": "/amount", "message": "Expected `int`, got `float`"}
    ]
    nested = await client.post(
        f"{tenant.base}/entries",
        json={"postings": [{"account_id": str(uuid.uuid4()), "amount": "9"}], "description": "x"},
        headers=headers,
    )
    assert nested.status_code == 400
    assert [error["pointer"] for error in nested.json()["errors"]] == ["/postings/0/amount"]
    # One item for the one bad parameter: nothing about the community's slug.
    query = await client.get(f"{tenant.base}/accounts?limit=0", headers=headers)
    assert query.status_code == 400
    assert query.json()["errors"] == [
        {"source": "query", "key": "limit", "message": "Expected `int` >= 1"}
    ]
    path = await client.get(
        f"{tenant.base}/reports/sustainability/nothing.csv?from=2026-01-01&to=2026-01-31",
        headers=headers,
    )
    assert path.status_code == 400
    assert [(error["source"], error["key"]) for error in path.json()["errors"]] == [
        ("path", "file")
    ]


async def test_a_created_resource_is_answered_with_its_location(
    client: AsyncTestClient[Litestar], tenant: Tenant
) -> None:
    member = await client.post(f"{tenant.base}/members", json={"name": "Cai"}, headers=ADMIN)
    assert member.status_code == 201
    where = member.headers["location"]
    assert where == f"{tenant.base}/members/{member.json()['id']}"
    assert (await client.get(where, headers=ADMIN)).json() == member.json()
    transfer = await client.post(
        f"{tenant.base}/transfers",
        json={
            "debit_account_id": tenant.ann["hours_account_id"],
            "credit_account_id": tenant.bob["hours_account_id"],
            "amount": 30,
            "description": "Half an hour of help",
        },
        headers={**tenant.treasurer, "Idempotency-Key": "location-1"},
    )
    assert transfer.status_code == 201, transfer.text
    entry = f"{tenant.base}/entries/{transfer.json()['id']}"
    assert transfer.headers["location"] == entry
    replay = await client.post(
        f"{tenant.base}/transfers",
        json={
            "debit_account_id": tenant.ann["hours_account_id"],
            "credit_account_id": tenant.bob["hours_account_id"],
            "amount": 30,
            "description": "Half an hour of help",
        },
        headers={**tenant.treasurer, "Idempotency-Key": "location-1"},
    )
    assert replay.headers["location"] == entry
    slug = f"l-{uuid.uuid4().hex[:10]}"
    community = await client.post(
        "/api/v1/communities", json={"slug": slug, "name": "L"}, headers=ADMIN
    )
    assert community.headers["location"] == f"/api/v1/communities/{slug}"
    # Credentials cannot be read back: no Location, and the document promises none.
    key = await client.post(f"{tenant.base}/api-keys", json={"scopes": ["read"]}, headers=ADMIN)
    assert key.status_code == 201 and "location" not in key.headers


def test_the_document_declares_location_where_it_is_sent(document: Doc) -> None:
    paths = document["paths"]
    created = paths["/api/v1/communities/{slug}/transfers"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    issued = paths["/api/v1/communities/{slug}/api-keys"]["post"]["responses"]["201"]
    assert "Location" not in issued["headers"] and "URL" not in issued["description"]


def test_the_location_of_a_reversal_is_the_new_entry() -> None:
    template = "/api/v1/communities/{slug}/entries/{entry_id}"
    old, new = uuid.uuid4(), uuid.uuid4()
    params = {"slug": "garden", "entry_id": old}
    assert (
        location(template, params, {"id": str(new)}) == f"/api/v1/communities/garden/entries/{new}"
    )
    assert location("/api/v1/communities/{slug}", {}, {"slug": "garden"}) == (
        "/api/v1/communities/garden"
    )
    assert location(template, {}, {"id": str(new)}) is None


def _names(key: ast.expr) -> list[str]:
    """The strings a dict key can be: a constant, or either branch of a conditional."""
    if isinstance(key, ast.IfExp):
        return [*_names(key.body), *_names(key.orelse)]
    return [key.value] if isinstance(key, ast.Constant) and isinstance(key.value, str) else []


def _sent_members() -> set[str]:
    """Every extension member name the ledger gives a refusal: the keys of the dicts it passes
    as ``members=`` or names ``members``."""
    found: set[str] = set()
    for path in Path("ledger").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            given = (
                [k.value for k in node.keywords if k.arg == "members"]
                if isinstance(node, ast.Call)
                else []
            )
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "members" for t in node.targets
            ):
                given.append(node.value)
            for value in given:
                if isinstance(value, ast.Dict):
                    found |= {name for key in value.keys if key for name in _names(key)}
    return found


def test_problem_declares_every_extension_member_a_refusal_carries(document: Doc) -> None:
    properties = _schemas(document)["Problem"]["properties"]
    sent = _sent_members()
    assert {"balance_after", "balance_min", "imbalance", "owed"} <= sent, "the scan found none"
    assert sent <= set(properties), sorted(sent - set(properties))
    assert properties["imbalance"]["additionalProperties"] == {"type": "integer"}
    assert all(properties[name].get("description") for name in sent)


def test_every_operation_taking_json_documents_the_415(document: Doc) -> None:
    taking = [
        (method, path, operation)
        for method, path, operation in _operations(document)
        if any("json" in media for media in operation.get("requestBody", {}).get("content", {}))
    ]
    assert len(taking) > 20
    for method, path, operation in taking:
        answer = operation["responses"].get("415")
        assert answer, f"{method} {path} does not document 415"
        [example] = answer["content"]["application/problem+json"]["examples"].values()
        assert example["value"]["code"] == "unsupported_media_type"
