"""Throw-away PostgreSQL databases for the benchmarks, on the server the tests also use."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("COMMONS_LEDGER_BENCH_DATABASE_URL", DEFAULT_SERVER)


def dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (for asyncpg and pgbench)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(statement: str, server: str) -> None:
    connection = await asyncpg.connect(dsn(server), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@asynccontextmanager
async def fresh_database(prefix: str, server: str | None = None) -> AsyncIterator[str]:
    """A new, empty database on ``server`` (a SQLAlchemy URL; default :func:`server_url`);
    yields its SQLAlchemy URL; dropped after."""
    server = server or server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"', server)
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server)


@asynccontextmanager
async def copy_of(template_url: str, prefix: str) -> AsyncIterator[str]:
    """A new database copied from the one at ``template_url`` (``CREATE DATABASE … TEMPLATE``:
    a file copy, nothing replayed; the template must have no connections); dropped after."""
    template = make_url(template_url).database
    server = make_url(template_url).set(database="postgres").render_as_string(hide_password=False)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"', server)
    try:
        yield make_url(template_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server)
