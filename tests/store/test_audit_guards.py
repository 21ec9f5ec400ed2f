"""The audit trail is append-only by the database itself: raw UPDATE, DELETE (and on PostgreSQL
TRUNCATE) of its records are refused on both engines. Where someone gets past that — on SQLite,
whoever can write the file can drop the trigger — the hash chain names the record tampered with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.chain import BrokenLink
from ledger.audit.trail import AuditTrail
from ledger.books.service import Ledger
from ledger.kernel.model import Community
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.engine import WRITE_OPTION
from ledger.store.migrate import upgrade
from tests.databases import sqlite_url


async def _execute(engine: AsyncEngine, statement: str, **params: object) -> None:
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            await connection.execute(sa.text(statement), params)


def _bind(community: Community, engine: AsyncEngine) -> object:
    # SQLite stores UUIDs as 32 hex characters.
    return community.id.hex if engine.dialect.name == "sqlite" else community.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET role = 'admin' WHERE community_id = :community",
        "UPDATE audit_log SET hash = prev_hash WHERE community_id = :community AND seq = 1",
        "DELETE FROM audit_log WHERE community_id = :community",
    ],
)
async def test_raw_sql_cannot_change_audit_records(
    ledger: Ledger, community: Community, engine: AsyncEngine, statement: str
) -> None:
    await ledger.create_member(community.id, "Ann")
    with pytest.raises(DBAPIError, match="append-only"):
        await _execute(engine, statement, community=_bind(community, engine))
    trail = AuditTrail(SqlUnitOfWorkFactory(engine))
    assert (await trail.verify(community.id)).broken is None


async def test_postgres_refuses_truncating_the_trail(
    postgresql_database_url: str, ledger: Ledger
) -> None:
    engine = create_engine(postgresql_database_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"):
            await _execute(engine, "TRUNCATE audit_log")
    finally:
        await engine.dispose()


@pytest.fixture
async def private_sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A database of this test's own: it drops the guards, which no other test may see."""
    engine = create_engine(sqlite_url(tmp_path / "tampered.db"))
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def _three_records(engine: AsyncEngine) -> tuple[Community, AuditTrail]:
    ledger = Ledger(SqlUnitOfWorkFactory(engine))
    community = await ledger.create_community("tampered", "Tampered")
    for name in ("Ann", "Bob", "Cy"):
        await ledger.create_member(community.id, name)
    trail = AuditTrail(SqlUnitOfWorkFactory(engine))
    assert (await trail.verify(community.id)).broken is None
    return community, trail


async def test_an_edited_record_breaks_the_chain_at_that_record(
    private_sqlite: AsyncEngine,
) -> None:
    community, trail = await _three_records(private_sqlite)
    await _execute(private_sqlite, "DROP TRIGGER audit_log_no_update")
    await _execute(
        private_sqlite,
        "UPDATE audit_log SET actor_kind = 'member' WHERE community_id = :c AND seq = 2",
        c=community.id.hex,
    )
    verification = await trail.verify(community.id)
    assert verification.records == 1
    assert verification.broken == BrokenLink(2, "its content no longer matches its hash")


async def test_a_removed_record_breaks_the_chain(private_sqlite: AsyncEngine) -> None:
    community, trail = await _three_records(private_sqlite)
    await _execute(private_sqlite, "DROP TRIGGER audit_log_no_delete")
    await _execute(
        private_sqlite,
        "DELETE FROM audit_log WHERE community_id = :c AND seq = 3",
        c=community.id.hex,
    )
    verification = await trail.verify(community.id)
    assert verification.broken is not None and verification.broken.seq == 3
