"""Alembic environment. Runs on a connection handed over by ``ledger.store.migrate`` (the
service and the tests), or on its own from ``COMMONS_LEDGER_DATABASE_URL`` when the ``alembic``
command is used directly."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from ledger.store.engine import create_engine
from ledger.store.tables import UTCDateTime, include_for, metadata

DEFAULT_URL = "sqlite+aiosqlite:///./commons-ledger.db"


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    # Revisions stay free of application imports: our UTC wrapper is a plain DateTime column.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_object=include_for(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "COMMONS_LEDGER_DATABASE_URL", DEFAULT_URL
    )
    asyncio.run(_run_from_url(url))


main()
