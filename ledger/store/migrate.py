"""Runs the Alembic history in ``migrations/`` on an engine, from async code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from ledger.store.statistics import refresh_statistics


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, lambda config: command.upgrade(config, revision))
    # A migration may fill or rewrite a table (a backfill, a seeded catalogue).
    await refresh_statistics(engine)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    await _run(engine, lambda config: command.downgrade(config, revision))


async def _run(engine: AsyncEngine, action: Callable[[Config], None]) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        action(config)

    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()


def head_revision() -> str:
    """The newest revision of the history this code ships (what ``upgrade`` brings a database
    to)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migration history is empty"
    return head
