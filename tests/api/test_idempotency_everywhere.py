"""Every write of the API takes an ``Idempotency-Key`` with the same meaning (CONTRACT.md §1):
the test walks the OpenAPI document, so a new write cannot be added without it.

For each write it checks the declaration, then sends the write three times under one key — a
body built from the document's examples, path ids that name nothing (the use case's refusal is
an outcome like any other) — and expects the second answer to be the first byte for byte and a
different request under the key to be 409 ``idempotency_conflict``. The writes that take no key
are listed, with their reason, in ``api.http.common.idempotency.WITHOUT_KEY``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.http.common.idempotency import WITHOUT_KEY
from api.http.schemas import NO_NUL
from api.settings import Settings
from api.webhook_settings import WebhookSettings
from ledger.events.url_guard import AllowList
from tests.api.conftest import ADMIN, ADMIN_TOKEN, Tenant, make_tenant

Doc = dict[str, Any]
WRITES = ("post", "put", "patch", "delete")


def _resolve(document: Doc, schema: Doc) -> Doc:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(document: Doc, schema: Doc) -> Any:
    """A value of ``schema`` from its examples, or made from its parts' examples."""
    if "examples" in schema:
        return schema["examples"][0]
    schema = _resolve(document, schema)
    if "examples" in schema:
        return schema["examples"][0]
    if "oneOf" in schema:
        return example(document, schema["oneOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(document, properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        item = example(document, schema["items"])
        return [item] + [_distinct(item, n) for n in range(1, schema.get("minItems", 1))]
    formats = {"uuid": str(uuid.uuid4()), "date": "2026-01-01", "date-time": "2026-01-01T12:00:00Z"}
    if kind == "string":
        return formats.get(schema.get("format", ""), "x" * schema.get("minLength", 1))
    return {"integer": 1, "boolean": False}.get(str(kind))


def _distinct(item: Any, n: int) -> Any:
    """Another item like ``item`` (the second side of a barter, another posting…)."""
    if isinstance(item, dict):
        return {k: _distinct(v, n) if k.endswith("_id") else v for k, v in item.items()}
    return str(uuid.UUID(int=uuid.UUID(item).int + n)) if isinstance(item, str) else item


def _other(document: Doc, schema: Doc, body: Any, keep: frozenset[str] = frozenset()) -> Any:
    """Another request: the body with a free text field set (``description``, ``name``…), or
    else a field's second example, or else another value of an enum or number. The fields in
    ``keep`` (those an example cannot give: :data:`OVERRIDES`) stay as they are."""
    assert isinstance(body, dict), body
    properties = {
        name: field
        for name, field in _resolve(document, schema).get("properties", {}).items()
        if name not in keep
    }
    for name, declared in properties.items():
        field = _resolve(document, declared)
        free = not ({"format", "enum", "$ref", "oneOf"} & set(field))
        free = free and field.get("pattern", NO_NUL) == NO_NUL
        if field.get("type") == "string" and free and field.get("maxLength", 1000) >= 20:
            return {**body, name: f"{body.get(name, '')} again"}
    for name, field in properties.items():
        examples = _resolve(document, field).get("examples", [])
        if len(examples) > 1:
            return {**body, name: examples[1]}
    for name, field in properties.items():
        if field.get("type") == "integer" and isinstance(field.get("default"), int):
            return {**body, name: body.get(name, field["default"]) + 1}
    for name, field in properties.items():
        values = _resolve(document, field).get("enum", [])
        if len(values) > 1:
            value = body.get(name, field.get("default", values[0]))
            return {**body, name: next(v for v in values if v != value)}
    for name, value in body.items():
        if isinstance(value, int) and not isinstance(value, bool):
            return {**body, name: value + 1}
    raise AssertionError(f"no field to change in {body} ({schema})")


def _writes(document: Doc) -> list[tuple[str, str, Doc]]:
    return [
        (method.upper(), path, item[method])
        for path, item in document["paths"].items()
        for method in WRITES
        if method in item
    ]


def _declares_key(operation: Doc) -> bool:
    return any(
        p["in"] == "header" and p["name"] == "Idempotency-Key"
        for p in operation.get("parameters", [])
    )


@dataclass
class Caller:
    """The test community, whom to send each write as, and the path ids that must name a real
    resource (a lookup made before the write refuses an unknown one, with no key to claim)."""

    client: AsyncTestClient[Litestar]
    tenant: Tenant
    identities: list[dict[str, str]]

    async def fresh(self, param: str) -> str:
        if param == "version":  # a number in the path, not an id
            return str(uuid.uuid4().int % 10**6 + 2)
        if param != "exchange_id":
            return str(uuid.uuid4())
        exchange = await self.client.post(
            f"{self.tenant.base}/exchanges",
            json={
                "provider_member_id": self.tenant.bob["id"],
                "receiver_member_id": self.tenant.ann["id"],
                "minutes": 30,
                "description": "Mended a coat",
            },
            headers=self.tenant.treasurer,
        )
        assert exchange.status_code == 201, exchange.text
        identifier: str = exchange.json()["id"]
        return identifier

    async def send(self, method: str, url: str, body: Any, key: str) -> httpx.Response:
        """The request as the first identity that may make it."""
        for identity in self.identities:
            headers = {**identity, "Idempotency-Key": key}
            answer = await self.client.request(method, url, json=body, headers=headers)
            if answer.status_code != 403:
                break
        return answer


OVERRIDES: dict[str, dict[str, Callable[[Tenant], object]]] = {
    # A slug is unique: the example's is taken after the first run.
    "createCommunity": {"slug": lambda _: f"i-{uuid.uuid4().hex[:12]}"},
    # The URL must reach an address the operator allows (loopback, in this test).
    "createWebhook": {"url": lambda _: "http://127.0.0.1:9/hook"},
    # Who takes part is checked against the token before the write.
    "createExchange": {
        "provider_member_id": lambda tenant: tenant.bob["id"],
        "receiver_member_id": lambda tenant: tenant.ann["id"],
    },
    # Two accounts, not the example's one twice.
    "createSchedule": {"credit_account_id": lambda _: str(uuid.uuid4())},
    "createTransfer": {"credit_account_id": lambda _: str(uuid.uuid4())},
    # Two members, not the example's one twice.
    "recordCrossExchange": {"partner_member_id": lambda _: str(uuid.uuid4())},
}
"""Body fields an example cannot give, by operationId."""


async def test_every_write_declares_and_honours_an_idempotency_key(database_url: str) -> None:
    webhooks = WebhookSettings(allow=AllowList.parse("127.0.0.1"))
    app = create_app(Settings(database_url=database_url, admin_token=ADMIN_TOKEN), None, webhooks)
    async with AsyncTestClient(app) as client:
        tenant = await make_tenant(client)
        steward = await client.post(
            f"{tenant.base}/roles",
            json={"member_id": tenant.ann["id"], "role": "steward"},
            headers=ADMIN,
        )
        assert steward.status_code == 201, steward.text
        caller = Caller(client, tenant, [tenant.treasurer, ADMIN, tenant.ann_token])
        document: Doc = app.openapi_schema.to_schema()
        writes = _writes(document)
        assert len(writes) > 40
        failures = []
        for method, path, operation in writes:
            name = operation["operationId"]
            if name in WITHOUT_KEY:
                assert not _declares_key(operation), name
                continue
            if not _declares_key(operation):
                failures.append(f"{name}: no Idempotency-Key")
                continue
            failures += await _honoured(caller, document, method, path, operation)
    assert not failures, "\n".join(failures)
    assert set(WITHOUT_KEY) <= {operation["operationId"] for _, _, operation in writes}


async def _honoured(
    caller: Caller, document: Doc, method: str, path: str, operation: Doc
) -> list[str]:
    name = operation["operationId"]
    slug = caller.tenant.slug
    ids = {param: await caller.fresh(param) for param in re.findall(r"{(\w+)}", path)}
    url = path.format(**{**ids, "slug": slug})
    body, schema = None, {}
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        body = example(document, schema)
        overrides = OVERRIDES.get(name, {}).items()
        body = {**body, **{field: make(caller.tenant) for field, make in overrides}}
    key = f"key-{name}"
    first = await caller.send(method, url, body, key)
    again = await caller.send(method, url, body, key)
    if first.status_code in (400, 401, 403, 405, 413, 429):
        return [f"{name}: the example request never reached the use case: {first.text}"]
    if (again.status_code, again.content) != (first.status_code, first.content):
        return [f"{name}: a retry answered {again.status_code} {again.text} after {first.text}"]
    other_ids = [param for param in ids if param != "slug"]
    if other_ids:
        fresh = await caller.fresh(other_ids[-1])
        url = path.format(**{**ids, other_ids[-1]: fresh, "slug": slug})
    else:
        body = _other(document, schema, body, frozenset(OVERRIDES.get(name, {})))
    other = await caller.send(method, url, body, key)
    if other.status_code != 409 or other.json()["code"] != "idempotency_conflict":
        return [f"{name}: another request under the key answered {other.status_code} {other.text}"]
    return []
