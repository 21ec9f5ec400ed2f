"""The finished OpenAPI document is built once per process for the same routes, and only for
the same routes."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar, get
from litestar.openapi.spec import OpenAPI
from litestar.testing import TestClient

from api.http.common.openapi_once import finish_once


@get("/apples", sync_to_thread=False)
def apples() -> list[str]:
    return ["cox"]


@get("/pears", sync_to_thread=False)
def pears() -> list[str]:
    return ["conference"]


@get("/plums", sync_to_thread=False)
def plums() -> list[str]:
    return ["victoria"]


# Each test has routes of its own: the documents are kept for the whole process.


def _finisher(calls: list[OpenAPI]) -> Callable[[OpenAPI], None]:
    def finish(document: OpenAPI) -> None:
        calls.append(document)
        document.info.description = f"finished {len(calls)}"

    return finish


def test_a_second_application_with_the_same_routes_is_given_the_finished_document() -> None:
    calls: list[OpenAPI] = []
    finish = _finisher(calls)
    first = Litestar([apples])
    second = Litestar([apples])
    assert finish_once(first, finish) is finish_once(second, finish)
    assert len(calls) == 1
    with TestClient(second) as client:
        served = client.get("/schema/openapi.json").json()
    assert served["info"]["description"] == "finished 1"
    assert list(served["paths"]) == ["/apples"]


def test_an_application_with_other_routes_builds_and_finishes_its_own() -> None:
    calls: list[OpenAPI] = []
    finish = _finisher(calls)
    alone = finish_once(Litestar([pears]), finish)
    other = Litestar([pears, plums])
    document = finish_once(other, finish)
    assert document is not alone
    assert len(calls) == 2
    assert sorted(document.paths or {}) == ["/pears", "/plums"]
    assert other.openapi_schema is document
