"""One Alembic history builds the same schema on SQLite and PostgreSQL, and walks both ways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from ledger.store import create_engine
from ledger.store.migrate import alembic_config, downgrade, upgrade
from ledger.store.tables import include_for, metadata
from tests.databases import postgres_database, sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    with postgres_database("cl_migrations") as url:
        yield url


def _state(connection: Connection) -> tuple[set[str], str | None, list[object]]:
    tables = set(sa.inspect(connection).get_table_names())
    context = MigrationContext.configure(
        connection, opts={"include_object": include_for(connection.dialect.name)}
    )
    return tables, context.get_current_revision(), compare_metadata(context, metadata)


def test_the_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1


async def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(empty_database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            tables, revision, diff = await connection.run_sync(_state)
        assert revision == head
        assert tables >= set(metadata.tables)
        assert diff == [], "the models and the migrations differ"

        await downgrade(engine)
        async with engine.connect() as connection:
            tables, revision, _ = await connection.run_sync(_state)
        assert revision is None
        assert tables & set(metadata.tables) == set()

        await upgrade(engine)
        async with engine.connect() as connection:
            _, revision, diff = await connection.run_sync(_state)
        assert (revision, diff) == (head, [])
    finally:
        await engine.dispose()
