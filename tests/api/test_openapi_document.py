"""What a client generated from the OpenAPI document looks like (issue 19): short, stable names
per operation and tag, named enums, typed downloads and metadata, one error-item schema, and the
small things linters flag. ``scripts/client_check`` generates the clients themselves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar

from api.app import create_app
from api.http.common.openapi_names import OPERATION_ID_LENGTH_MAX, OPERATION_ID_PATTERN, TAGS
from api.settings import Settings
from tests.api.conftest import ADMIN_TOKEN
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
