"""The database refuses, by itself, writes that would unbalance the books or rewrite history —
so that a bug in Python or a hand-written statement cannot."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, Entry, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.engine import WRITE_OPTION
from tests.conftest import unique_slug


async def _posted_and_pending(ledger: Ledger, community: Community) -> tuple[Entry, Entry]:
    ann = await ledger.create_member(community.id, "Ann")
    bob = await ledger.create_member(community.id, "Bob")

    def transfer(minutes: int, pending: bool) -> NewEntry:
        return NewEntry(
            (
                PostingSpec(bob.hours_account_id, minutes),
                PostingSpec(ann.hours_account_id, -minutes),
            ),
            pending=pending,
        )

    posted = await ledger.post_entry(community.id, transfer(60, pending=False))
    pending = await ledger.post_entry(community.id, transfer(30, pending=True))
    return posted, pending


async def _execute(engine: AsyncEngine, *statements: str, **params: object) -> None:
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            for statement in statements:
                await connection.execute(sa.text(statement), params)


def _bind(value: uuid.UUID, engine: AsyncEngine) -> object:
    # SQLite stores UUIDs as 32 hex characters.
    return value.hex if engine.dialect.name == "sqlite" else value


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount = amount * 2 WHERE entry_id = :entry",
        "DELETE FROM postings WHERE entry_id = :entry",
        "UPDATE entries SET description = 'rewritten' WHERE id = :entry",
        "UPDATE entries SET status = 'voided' WHERE id = :entry",
        "DELETE FROM entries WHERE id = :entry",
    ],
)
async def test_posted_rows_never_change(
    ledger: Ledger, community: Community, engine: AsyncEngine, statement: str
) -> None:
    posted, _ = await _posted_and_pending(ledger, community)
    with pytest.raises(DBAPIError):
        await _execute(engine, statement, entry=_bind(posted.id, engine))
    assert await ledger.get_entry(community.id, posted.id) == posted


async def test_a_pending_entry_may_only_complete(
    ledger: Ledger, community: Community, engine: AsyncEngine
) -> None:
    _, pending = await _posted_and_pending(ledger, community)
    with pytest.raises(DBAPIError):
        await _execute(
            engine,
            "UPDATE entries SET description = 'rewritten' WHERE id = :entry",
            entry=_bind(pending.id, engine),
        )
    with pytest.raises(DBAPIError):
        await _execute(
            engine,
            "UPDATE postings SET amount = 1 WHERE entry_id = :entry",
            entry=_bind(pending.id, engine),
        )


async def test_an_entry_is_reversed_at_most_once(
    ledger: Ledger, community: Community, engine: AsyncEngine
) -> None:
    # On PostgreSQL a partial unique index of the reversals (migration 0014), on SQLite the
    # constraint: either way the database itself refuses a second reversal.
    posted, _ = await _posted_and_pending(ledger, community)
    reversal = await ledger.reverse(community.id, posted.id)
    with pytest.raises(DBAPIError, match=r"duplicate key|UNIQUE constraint failed"):
        await _execute(
            engine,
            "INSERT INTO entries (community_id, id, status, effective_date, description, kind,"
            " metadata, created_at, completed_at, reverses) SELECT community_id, :again,"
            " status, effective_date, description, kind, metadata, created_at, completed_at,"
            " reverses FROM entries WHERE id = :reversal",
            again=_bind(uuid.uuid4(), engine),
            reversal=_bind(reversal.id, engine),
        )


async def test_counters_cannot_leave_the_limits(
    ledger: Ledger, community: Community, engine: AsyncEngine
) -> None:
    member = await ledger.create_member(community.id, "Ann", hours_min=-60)
    with pytest.raises(DBAPIError):
        await _execute(
            engine,
            "UPDATE accounts SET debits_posted = 61 WHERE id = :account",
            account=_bind(member.hours_account_id, engine),
        )


async def test_postgres_refuses_an_unbalanced_entry_at_commit(
    postgresql_database_url: str,
) -> None:
    # A deferred constraint trigger: SQLite has none, so this guard is PostgreSQL's alone.
    engine = create_engine(postgresql_database_url)
    try:
        await _refuses_unbalanced(engine, Ledger(SqlUnitOfWorkFactory(engine)))
    finally:
        await engine.dispose()


async def _refuses_unbalanced(engine: AsyncEngine, ledger: Ledger) -> None:
    community = await ledger.create_community(unique_slug(), "Guards")
    posted, _ = await _posted_and_pending(ledger, community)
    entry_id = uuid.uuid4()
    insert_entry = (
        "INSERT INTO entries (community_id, id, status, effective_date, description, kind,"
        " metadata, created_at, completed_at)"
        " VALUES (:community, :entry, 'posted', CURRENT_DATE, 'forged', 'entry', '{}',"
        " now(), now())"
    )
    insert_posting = (
        "INSERT INTO postings (community_id, entry_id, line, account_id, commodity, amount,"
        " effective_date) VALUES (:community, :entry, :line, :account, 'HOURS', :amount,"
        " COALESCE(CAST(:dated AS date), CURRENT_DATE))"
    )
    account = posted.postings[0].account_id
    base = {"community": community.id, "entry": entry_id, "account": account}

    async def write(
        *postings: tuple[int, int], dated: date | None = None, entry: bool = True
    ) -> None:
        async with engine.connect() as connection, connection.begin():
            if entry:
                await connection.execute(sa.text(insert_entry), base)
            for line, amount in postings:
                await connection.execute(
                    sa.text(insert_posting),
                    {**base, "line": line, "amount": amount, "dated": dated},
                )

    with pytest.raises(DBAPIError, match="unbalanced"):
        await write((0, 5), (1, -4))
    with pytest.raises(DBAPIError, match="fewer than 2 postings"):
        await write()
    with pytest.raises(DBAPIError, match="dated apart"):
        await write((0, 5), (1, -5), dated=date(2020, 1, 1))
    # Postings added later to an entry already in the books are checked too.
    base["entry"] = posted.id
    with pytest.raises(DBAPIError, match="unbalanced"):
        await write((7, 5), entry=False)
    with pytest.raises(DBAPIError, match="dated apart"):
        await write((7, 5), (8, -5), dated=posted.effective_date - timedelta(days=1), entry=False)
    with pytest.raises(errors.EntryNotFound):
        await ledger.get_entry(community.id, entry_id)
