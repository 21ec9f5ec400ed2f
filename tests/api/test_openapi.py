"""The OpenAPI document is the product: complete, self-contained, and true to the running API.

schemathesis checks the running service against this document in ``test_fuzz_live.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.http.common.errors import STATUS_BY_CODE
from api.http.common.openapi import EXAMPLE_DETAILS
from api.settings import Settings
from api.web import WEB_PATHS
from tests.api.conftest import ADMIN_TOKEN
from tests.databases import sqlite_url

Doc = dict[str, Any]

API_PREFIX = "/api/v1"
COMMUNITY = f"{API_PREFIX}/communities/{{slug}}"
PROBLEM_REF = "#/components/schemas/Problem"

# The operations of the contract's HTTP surface (CONTRACT.md §2) that are routed today; the rest
# (reports, exports) are covered by the registered-routes comparison once they exist.
CONTRACT_OPERATIONS = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("POST", f"{API_PREFIX}/communities"),
    ("GET", COMMUNITY),
    ("POST", f"{COMMUNITY}/members"),
    ("GET", f"{COMMUNITY}/members"),
    ("GET", f"{COMMUNITY}/members/{{member_id}}"),
    ("POST", f"{COMMUNITY}/api-keys"),
    ("POST", f"{COMMUNITY}/members/{{member_id}}/tokens"),
    ("POST", f"{COMMUNITY}/commodities"),
    ("GET", f"{COMMUNITY}/commodities"),
    ("POST", f"{COMMUNITY}/accounts"),
    ("GET", f"{COMMUNITY}/accounts"),
    ("GET", f"{COMMUNITY}/accounts/{{account_id}}"),
    ("PATCH", f"{COMMUNITY}/accounts/{{account_id}}"),
    ("GET", f"{COMMUNITY}/accounts/{{account_id}}/balance"),
    ("GET", f"{COMMUNITY}/accounts/{{account_id}}/postings"),
    ("POST", f"{COMMUNITY}/transfers"),
    ("POST", f"{COMMUNITY}/entries"),
    ("GET", f"{COMMUNITY}/entries"),
    ("GET", f"{COMMUNITY}/entries/{{entry_id}}"),
    ("POST", f"{COMMUNITY}/entries/{{entry_id}}/post"),
    ("POST", f"{COMMUNITY}/entries/{{entry_id}}/void"),
    ("POST", f"{COMMUNITY}/entries/{{entry_id}}/reverse"),
    ("GET", f"{COMMUNITY}/trial-balance"),
    ("POST", f"{COMMUNITY}/exchanges"),
    ("POST", f"{COMMUNITY}/exchanges/{{exchange_id}}/confirm"),
    ("GET", f"{COMMUNITY}/exports/journal.beancount"),
    ("GET", f"{COMMUNITY}/exports/journal.hledger"),
    ("GET", f"{COMMUNITY}/exports/journal.csv"),
}

_HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    # The document and the UI need no database: the SQLite file is never opened.
    url = sqlite_url(tmp_path_factory.mktemp("openapi") / "unused.db")
    return create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN))


@pytest.fixture(scope="module")
def document(app: Litestar) -> Doc:
    schema: Doc = app.openapi_schema.to_schema()
    return schema


def _operations(document: Doc) -> Iterator[tuple[str, str, Doc]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method.upper() in _HTTP_METHODS:
                yield method.upper(), path, operation


def _resolve(document: Doc, schema: Doc) -> Doc:
    while "$ref" in schema:
        target: Doc = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def _schema_has_examples(document: Doc, schema: Doc, seen: frozenset[str] = frozenset()) -> bool:
    """Whether the schema, through references, properties, items and unions, shows an example."""
    ref = schema.get("$ref")
    if ref in seen:
        return False
    resolved = _resolve(document, schema)
    seen = seen | {ref} if ref else seen
    if resolved.get("examples") or "example" in resolved:
        return True
    children = [
        *resolved.get("properties", {}).values(),
        *([resolved["items"]] if isinstance(resolved.get("items"), dict) else []),
        *resolved.get("oneOf", []),
        *resolved.get("anyOf", []),
        *resolved.get("allOf", []),
    ]
    return any(_schema_has_examples(document, child, seen) for child in children)


def _media_has_examples(document: Doc, media: Doc) -> bool:
    return bool(media.get("examples") or "example" in media) or _schema_has_examples(
        document, media.get("schema", {})
    )


def test_every_registered_route_is_documented(app: Litestar, document: Doc) -> None:
    registered = {
        (method, route.path_format)
        for route in app.routes
        if not route.path_format.startswith("/schema")
        # The member page's HTML routes are no part of the API document.
        and not re.match("|".join(WEB_PATHS), route.path_format)
        for method in getattr(route, "methods", ())
        if method in _HTTP_METHODS
    }
    documented = {(method, path) for method, path, _ in _operations(document)}
    assert registered == documented
    assert not CONTRACT_OPERATIONS - documented
    assert document["openapi"].startswith("3.1")
    bearer_scheme = document["components"]["securitySchemes"]["bearer"]
    assert (bearer_scheme["type"], bearer_scheme["scheme"]) == ("http", "bearer")


def test_every_operation_has_a_summary_problem_responses_and_an_example(document: Doc) -> None:
    problems: list[str] = []
    for method, path, operation in _operations(document):
        label = f"{method} {path}"
        if not operation.get("summary"):
            problems.append(f"{label}: no summary")
        media = [
            *operation.get("requestBody", {}).get("content", {}).values(),
            *(m for r in operation["responses"].values() for m in r.get("content", {}).values()),
        ]
        if not any(_media_has_examples(document, m) for m in media):
            problems.append(f"{label}: no example")
        for body in operation.get("requestBody", {}).get("content", {}).values():
            if not _schema_has_examples(document, body["schema"]):
                problems.append(f"{label}: the request body shows no example")
        if not path.startswith(API_PREFIX):
            continue  # /health and /ready take no input and need no token: no 4xx to document
        errors = {
            status: response
            for status, response in operation["responses"].items()
            if status.startswith("4")
        }
        for status, response in errors.items():
            content = response.get("content", {})
            if set(content) != {"application/problem+json"}:
                problems.append(f"{label}: {status} is not application/problem+json")
                continue
            if content["application/problem+json"]["schema"] != {"$ref": PROBLEM_REF}:
                problems.append(f"{label}: {status} is not a Problem")
            if not content["application/problem+json"].get("examples"):
                problems.append(f"{label}: {status} has no example")
        expected = {"400", "401", "429"} | ({"404"} if path.startswith(COMMUNITY) else set())
        if missing := expected - set(errors):
            problems.append(f"{label}: undocumented {sorted(missing)}")
        if "requestBody" in operation and "413" not in errors:
            problems.append(f"{label}: takes a body but does not document 413")
        if operation.get("security") != [{"bearer": []}]:
            problems.append(f"{label}: not marked as needing the bearer token")
    assert not problems, "\n".join(problems)


def test_every_ledger_error_code_has_an_example() -> None:
    assert set(EXAMPLE_DETAILS) == set(STATUS_BY_CODE)


async def test_schema_page_loads_nothing_from_another_host(app: Litestar) -> None:
    async with AsyncTestClient(app) as client:
        page = await client.get("/schema")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "SwaggerUIBundle" in html
        assert re.findall(r"(?:https?:)?//[\w.-]+\.\w", html) == []
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assert len(urls) >= 4, urls  # stylesheet, bundle, preset, icon
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), url
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 0, url
        kinds = {url.rsplit(".", 1)[-1]: url for url in urls}
        assert (await client.get(kinds["js"])).headers["content-type"].startswith("text/javascript")
        assert (await client.get(kinds["css"])).headers["content-type"].startswith("text/css")
        assert (await client.get("/schema/openapi.json")).json()["openapi"].startswith("3.1")
        # The assets are plain files: nothing outside their directory is served.
        assert (await client.get("/schema/assets/../../openapi.py")).status_code == 404


def test_documented_response_headers_links_and_closed_request_bodies(document: Doc) -> None:
    """What Litestar's response specs cannot say is added to the document: the headers the
    middleware sends, where a created resource leads, and that request bodies are closed."""
    headers = document["components"]["headers"]
    assert {"X-Request-ID", "WWW-Authenticate", "Retry-After", "RateLimit-Reset"} <= set(headers)
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            names = set(response.get("headers", {}))
            assert "X-Request-ID" in names, (method, path, status)
            if status == "401":
                assert "WWW-Authenticate" in names, (method, path)
            if status == "429":
                assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining"} <= names
        for media in operation.get("requestBody", {}).get("content", {}).values():
            # An optional body (reverse) is ``oneOf: [the struct, null]``.
            for schema in media["schema"].get("oneOf", [media["schema"]]):
                body = _resolve(document, schema)
                if body.get("type") == "object":
                    assert body["additionalProperties"] is False, (method, path)
    operation_ids = {operation["operationId"] for _, _, operation in _operations(document)}
    created = document["paths"][f"{COMMUNITY}/transfers"]["post"]["responses"]["201"]
    links = created["links"]
    assert {"readEntry", "postPending", "voidPending", "reverse"} <= set(links)
    assert all(link["operationId"] in operation_ids for link in links.values())
    assert links["readEntry"]["parameters"] == {
        "slug": "$request.path.slug",
        "entry_id": "$response.body#/id",
    }
