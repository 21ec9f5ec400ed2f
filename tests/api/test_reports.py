"""The sustainability report over HTTP: the JSON form of the fixed books, and its refusals."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.access import Scope
from ledger.credentials import Access
from ledger.store import SqlUnitOfWorkFactory
from tests.api.conftest import bearer
from tests.reports.ledgers import Books, fixed_books

Client = AsyncTestClient[Litestar]
Q3 = {"from": "2026-07-01", "to": "2026-09-30"}


async def _reader(engine: AsyncEngine, books: Books) -> dict[str, str]:
    access = Access(SqlUnitOfWorkFactory(engine))
    _, token = await access.issue_api_key(books.community.id, "reader", frozenset({Scope.READ}))
    return bearer(token)


def _path(books: Books, suffix: str = "") -> str:
    return f"/api/v1/communities/{books.community.slug}/reports/sustainability{suffix}"


async def test_the_json_report(client: Client, engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    headers = await _reader(engine, books)
    response = await client.get(
        _path(books), params={**Q3, "burnout_minutes": 300}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == {"start": "2026-07-01", "end": "2026-09-30", "label": "2026-Q3"}
    assert len(body["fingerprint"]) == 64
    eur = body["financial"]["income_statements"][0]
    assert eur["commodity"] == "EUR"
    assert eur["net"] == {
        "name": "Net result", "current": 30_000, "previous": 14_000, "year_earlier": 10_000
    }  # fmt: skip
    health = body["time_bank"]
    assert (health["exchanges"], health["minutes_exchanged"]) == (5, 510)
    assert health["gini_given"] == "0.6353"
    assert [m["name"] for m in health["burnout_watch"]] == ["Bob"]
    assert {u["code"]: u["scale"] for u in body["units"]} == {"EUR": 2, "HOURS": 0}
    assert any(item["term"] == "Fingerprint" for item in body["glossary"])


async def test_refusals(client: Client, engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    headers = await _reader(engine, books)
    backwards = await client.get(
        _path(books), params={"from": "2026-09-30", "to": "2026-07-01"}, headers=headers
    )
    assert backwards.status_code == 422
    assert backwards.json()["type"].endswith("/invalid-input")
    missing = await client.get(_path(books), params={"from": "2026-07-01"}, headers=headers)
    assert missing.status_code == 400
