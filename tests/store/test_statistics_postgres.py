"""Statistics gathered where the service changes a table's size by orders (``ANALYZE``, as
``autovacuum`` would, for servers that run without it): only tables of at least ten pages whose
size doubled or halved since, never a small one; and an operator command (``import-journal``)
leaves the tables it grew analysed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli.main import main
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.statistics import refresh_statistics
from tests.databases import migrate, postgres_database


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres_database("cl_statistics") as url:
        asyncio.run(migrate(url))
        yield url


async def _reltuples(engine: AsyncEngine, table: str) -> float:
    async with engine.connect() as connection:
        found = await connection.execute(
            sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"),
            {"table": table},
        )
        return float(found.scalar_one())


async def _add_communities(engine: AsyncEngine, first: int, count: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO communities (id, slug, name, created_at)"
                " SELECT gen_random_uuid(), 'c' || i, 'Community ' || i, now()"
                " FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS i"
            ),
            {"first": first, "last": first + count - 1},
        )


async def test_only_tables_grown_by_orders_and_not_small_are_analysed(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await refresh_statistics(engine) == []  # a new schema: every table is small
        await _add_communities(engine, 1, 3)
        assert await refresh_statistics(engine) == []
        assert await _reltuples(engine, "communities") == -1  # never analysed

        await _add_communities(engine, 4, 3_000)
        assert await refresh_statistics(engine) == ["communities"]
        assert await _reltuples(engine, "communities") == 3_003
        await _add_communities(engine, 4_000, 300)  # +10 %: not an order
        assert await refresh_statistics(engine) == []
        await _add_communities(engine, 10_000, 4_000)
        assert await refresh_statistics(engine) == ["communities"]
        assert await _reltuples(engine, "communities") == 7_303
        assert await _reltuples(engine, "entries") == -1
    finally:
        await engine.dispose()


async def _accounts(url: str) -> None:
    engine = create_engine(url)
    try:
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.create_community("riverside", "Riverside")
        for code in ("ann", "bob"):
            await ledger.open_account(
                community.id, NewAccount(code, code.title(), AccountType.LIABILITY, "HOURS")
            )
    finally:
        await engine.dispose()


def test_an_import_leaves_the_tables_it_grew_analysed(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", database_url)
    asyncio.run(_accounts(database_url))
    rows = ["entry_id,date,description,account_code,amount"]
    for n in range(2_000):
        rows += [f"{n},2025-01-05,Help,ann,30", f"{n},,,bob,-30"]
    journal = tmp_path / "history.csv"
    journal.write_text("\n".join(rows) + "\n")

    assert main(["import-journal", "riverside", str(journal)]) == 0

    async def analysed() -> tuple[float, float]:
        engine = create_engine(database_url)
        try:
            return await _reltuples(engine, "entries"), await _reltuples(engine, "postings")
        finally:
            await engine.dispose()

    assert asyncio.run(analysed()) == (2_000, 4_000)
