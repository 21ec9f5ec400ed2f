"""The sustainability report over HTTP: the JSON form of the fixed books, and its refusals."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.store import SqlUnitOfWorkFactory
from tests.api.conftest import bearer
from tests.reports.ledgers import Books, exchange, fixed_books

Client = AsyncTestClient[Litestar]
Q3 = {"from": "2026-07-01", "to": "2026-09-30"}


async def _key(engine: AsyncEngine, books: Books, scope: Scope) -> dict[str, str]:
    access = Access(SqlUnitOfWorkFactory(engine))
    _, token = await access.issue_api_key(books.community.id, str(scope), frozenset({scope}))
    return bearer(token)


async def _reader(engine: AsyncEngine, books: Books) -> dict[str, str]:
    return await _key(engine, books, Scope.READ)


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
        "name": "Net result", "current": 30_000, "previous": 14_000, "year_earlier": 10_000,
        "code": "",
    }  # fmt: skip
    # Lines by the names people read; their codes for programs.
    lines = [(c["code"], c["name"]) for c in eur["income"] + eur["expenses"]]
    assert lines == [("Income:Farm", "Farm shop"), ("Income:Grants", "Grants"),
                     ("Expenses:Food", "Food"), ("Expenses:Rent", "Rent of the hall")]  # fmt: skip
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


async def _with_awkward_names(engine: AsyncEngine) -> tuple[Books, dict[str, str]]:
    """The fixed books plus two members whose names attack HTML and spreadsheets, each giving
    Eve 30 minutes in Q3."""
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    for name in (SCRIPT, FORMULA):
        member = await books.ledger.create_member(books.community.id, name)
        gift = exchange(member, books.members["Eve"], 30, date(2026, 9, 20), "<b>tea</b>")
        await books.ledger.post_entry(books.community.id, gift)
    return books, await _reader(engine, books)


SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil")'


async def test_the_html_page(client: Client, engine: AsyncEngine) -> None:
    books, headers = await _with_awkward_names(engine)
    json_form = (await client.get(_path(books), params=Q3, headers=headers)).json()
    response = await client.get(_path(books, ".html"), params=Q3, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Sustainability report — Report test" in page
    assert json_form["fingerprint"] in page
    assert "<svg" in page and "Hours given per member" in page
    # Net result of Q3, Q2 and 2025-Q3 in euros.
    assert "300.00</td>" in page and "140.00</td>" in page
    assert "no target set" in page and "No adopted budget" in page
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>tea</b>" not in page and "&lt;b&gt;tea&lt;/b&gt;" in page


async def test_the_pdf(client: Client, engine: AsyncEngine) -> None:
    books, headers = await _with_awkward_names(engine)
    response = await client.get(_path(books, ".pdf"), params=Q3, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("Sustainability report", "2026-Q3", "Net result", "Burnout watch",
                     "Bob", "Glossary", "no target set", SCRIPT):  # fmt: skip
        assert expected in text, expected


async def test_the_workbook(client: Client, engine: AsyncEngine) -> None:
    books, headers = await _with_awkward_names(engine)
    response = await client.get(_path(books, ".xlsx"), params=Q3, headers=headers)
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert "income-statement" in workbook.sheetnames and "glossary" in workbook.sheetnames
    sheet = workbook["income-statement"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["commodity", "kind", "code", "line", "current", "previous", "year_earlier"],
        ["EUR", "income", "Income:Farm", "Farm shop", 30_000, 20_000, 10_000],
        ["EUR", "income", "Income:Grants", "Grants", 12_000, 0, 0],
        ["EUR", "expense", "Expenses:Food", "Food", 3_000, 6_000, 0],
        ["EUR", "expense", "Expenses:Rent", "Rent of the hall", 9_000, 0, 0],
        ["EUR", "total", "", "Total income", 42_000, 20_000, 10_000],
        ["EUR", "total", "", "Total expenses", 12_000, 6_000, 0],
        ["EUR", "total", "", "Net result", 30_000, 14_000, 10_000],
    ]
    assert all(cell.data_type == "n" for row in sheet.iter_rows(min_row=2, min_col=5)
               for cell in row)  # fmt: skip
    given = {row[1]: row[2] for row in workbook["hours-given"].iter_rows(values_only=True)}
    assert given["'" + FORMULA] == 30 and FORMULA not in given
    assert given["Bob"] == 360
    assert not any(
        cell.data_type == "f"
        for ws in workbook.worksheets
        for row in ws.iter_rows()
        for cell in row
    )


async def test_csv_per_section(client: Client, engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    headers = await _reader(engine, books)
    response = await client.get(_path(books, "/hours-by-category.csv"), params=Q3, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == (
        "category,exchanges,minutes\r\ngardening,3,240\r\ncooking,1,180\r\n(no category),1,90\r\n"
    )
    unknown = await client.get(_path(books, "/nothing.csv"), params=Q3, headers=headers)
    assert unknown.status_code == 400


async def test_snapshots_over_http(client: Client, engine: AsyncEngine) -> None:
    books = await fixed_books(SqlUnitOfWorkFactory(engine))
    reader = await _reader(engine, books)
    treasurer = await _key(engine, books, Scope.TREASURER)
    base = f"/api/v1/communities/{books.community.slug}/reports/snapshots"
    taken = await client.post(base, json={"period": "2026-Q3"}, headers=treasurer)
    assert taken.status_code == 201, taken.text
    snapshot = taken.json()
    assert (snapshot["period_start"], snapshot["period_end"]) == ("2026-07-01", "2026-09-30")
    again = await client.post(base, json={"period": "2026-Q3"}, headers=treasurer)
    assert again.status_code == 409 and again.json()["type"].endswith("/snapshot-exists")
    assert (await client.post(base, json={"period": "2026-Q3"}, headers=reader)).status_code == 403
    listed = await client.get(base, headers=reader)
    assert [s["id"] for s in listed.json()["items"]] == [snapshot["id"]]
    stored = await client.get(f"{base}/{snapshot['id']}/sustainability", headers=reader)
    live = await client.get(_path(books), params=Q3, headers=reader)
    assert stored.json()["fingerprint"] == live.json()["fingerprint"] == snapshot["fingerprint"]
    assert stored.json()["time_bank"] == live.json()["time_bank"]
    pdf = await client.get(f"{base}/{snapshot['id']}/sustainability.pdf", headers=reader)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = await client.get(f"{base}/{snapshot['id']}/sustainability/pending.csv", headers=reader)
    assert (
        csv.text == "commodity,figure,value\r\n*,entries,2\r\nEUR,income,7000\r\nEUR,expenses,0\r\n"
    )
    missing = await client.get(f"{base}/{books.community.id}/sustainability", headers=reader)
    assert missing.status_code == 404
