"""The balance guard checks an entry once when one statement writes it with its postings
(migration 0025), and still refuses every unbalanced entry, however it is written.

A posting written by its entry's own command is not checked again: the entry's check, fired after
that command, reads it. These tests write entries the way the write path does (one
``INSERT … unnest`` statement, ``ledger.store.entries.INSERT_WITH_POSTINGS``) and the ways it
does not (a posting in a later statement, after the entry's check already ran)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.books.service import Ledger
from ledger.kernel.model import Community, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.engine import WRITE_OPTION
from tests.conftest import unique_slug

# An entry and its postings in one statement, as the write path writes them.
_WITH_POSTINGS = sa.text(
    "WITH new_entry AS (INSERT INTO entries (community_id, id, status, effective_date,"
    " description, kind, metadata, created_at, completed_at) VALUES (:community, :entry,"
    " 'posted', CURRENT_DATE, 'forged', 'entry', '{}', now(), now()))"
    " INSERT INTO postings (community_id, entry_id, line, account_id, commodity, amount,"
    " effective_date) SELECT :community, :entry, t.line, :account, 'HOURS', t.amount,"
    " COALESCE(CAST(:dated AS date), CURRENT_DATE)"
    " FROM unnest(CAST(:lines AS smallint[]), CAST(:amounts AS bigint[])) AS t(line, amount)"
)
_POSTING = sa.text(
    "INSERT INTO postings (community_id, entry_id, line, account_id, commodity, amount,"
    " effective_date) VALUES (:community, :entry, :line, :account, 'HOURS', :amount,"
    " CURRENT_DATE)"
)
_CHECKS = sa.text(
    "SELECT coalesce(pg_stat_get_xact_function_calls("
    "CAST('ledger_assert_entry_balanced' AS regproc)), 0)"
)


@pytest.fixture
async def pg_engine(postgresql_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgresql_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def books(pg_engine: AsyncEngine) -> tuple[Community, uuid.UUID]:
    ledger = Ledger(SqlUnitOfWorkFactory(pg_engine))
    community = await ledger.create_community(unique_slug(), "Guard once")
    ann = await ledger.create_member(community.id, "Ann")
    bob = await ledger.create_member(community.id, "Bob")
    await ledger.post_entry(
        community.id,
        NewEntry((PostingSpec(bob.hours_account_id, 60), PostingSpec(ann.hours_account_id, -60))),
    )
    return community, ann.hours_account_id


async def _begin(connection: AsyncConnection) -> None:
    await connection.execution_options(**{WRITE_OPTION: True})


async def _write(engine: AsyncEngine, *steps: tuple[sa.TextClause, dict[str, object]]) -> None:
    """The statements in one transaction, committed."""
    async with engine.connect() as connection:
        await _begin(connection)
        async with connection.begin():
            for statement, params in steps:
                await connection.execute(statement, params)


def _entry(
    books: tuple[Community, uuid.UUID], *amounts: int, dated: date | None = None
) -> dict[str, object]:
    community, account = books
    return {
        "community": community.id,
        "entry": uuid.uuid4(),
        "account": account,
        "lines": list(range(len(amounts))),
        "amounts": list(amounts),
        "dated": dated,
    }


@pytest.mark.parametrize(
    ("amounts", "dated", "refusal"),
    [
        ((5, -4), None, "unbalanced"),
        ((5,), None, "fewer than 2 postings"),
        ((5, -5), date(2020, 1, 1), "dated apart"),
    ],
)
async def test_one_statement_entry_is_checked(
    pg_engine: AsyncEngine,
    books: tuple[Community, uuid.UUID],
    amounts: tuple[int, ...],
    dated: date | None,
    refusal: str,
) -> None:
    # Every posting here is skipped: only the entry's own check can refuse it.
    with pytest.raises(DBAPIError, match=refusal):
        await _write(pg_engine, (_WITH_POSTINGS, _entry(books, *amounts, dated=dated)))


async def test_a_posting_after_the_entrys_check_is_checked(
    pg_engine: AsyncEngine, books: tuple[Community, uuid.UUID]
) -> None:
    # The entry's check runs (SET CONSTRAINTS … IMMEDIATE) and passes; a posting written later
    # by another statement unbalances the entry and must be refused by its own check.
    params = _entry(books, 5, -5)
    steps: tuple[tuple[sa.TextClause, dict[str, object]], ...] = (
        (_WITH_POSTINGS, params),
        (sa.text("SET CONSTRAINTS ALL IMMEDIATE"), {}),
        (sa.text("SET CONSTRAINTS ALL DEFERRED"), {}),
        (_POSTING, {**params, "line": 2, "amount": 3}),
    )
    with pytest.raises(DBAPIError, match="unbalanced"):
        await _write(pg_engine, *steps)


async def test_one_check_per_entry_written_with_its_postings(
    pg_engine: AsyncEngine, books: tuple[Community, uuid.UUID]
) -> None:
    async with pg_engine.connect() as connection:
        await _begin(connection)
        async with connection.begin():
            await connection.execute(sa.text("SET LOCAL track_functions = 'pl'"))
            for _ in range(3):
                await connection.execute(_WITH_POSTINGS, _entry(books, 5, -2, -3))
            # Fire the deferred checks now, inside the transaction, to count them.
            await connection.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
            assert (await connection.execute(_CHECKS)).scalar_one() == 3
            # Postings written apart from their entry are each checked, as before.
            await connection.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))
            params = _entry(books, 5, -5)
            await connection.execute(_WITH_POSTINGS, {**params, "lines": [], "amounts": []})
            for line, amount in ((0, 5), (1, -5)):
                await connection.execute(_POSTING, {**params, "line": line, "amount": amount})
            await connection.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
            assert (await connection.execute(_CHECKS)).scalar_one() == 3 + 3
