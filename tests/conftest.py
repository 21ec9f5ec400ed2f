"""Fixtures shared by the whole suite.

Most tests run once per engine (``engine_name`` is ``sqlite`` or ``postgresql``) against a
database migrated once per session. Tests isolate themselves by working in a community of their
own: every row is scoped by community, so nothing needs truncating between tests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.kernel.model import Community
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.databases import migrate, postgres_database, sqlite_url

ENGINE_NAMES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = sqlite_url(tmp_path_factory.mktemp("sqlite") / "ledger.db")
    asyncio.run(migrate(url))
    return url


@pytest.fixture(scope="session")
def postgresql_database_url() -> Iterator[str]:
    with postgres_database() as url:
        asyncio.run(migrate(url))
        yield url


@pytest.fixture(params=ENGINE_NAMES)
def engine_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(engine_name: str, request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{engine_name}_database_url")
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def ledger(engine: AsyncEngine) -> Ledger:
    return Ledger(SqlUnitOfWorkFactory(engine))


def unique_slug(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def community(ledger: Ledger) -> Community:
    return await ledger.create_community(unique_slug(), "Test time-bank")
