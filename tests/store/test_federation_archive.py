"""An archive carries a community's side of federation: its links with every version and
consent, its transfers and its journal restore as they were, and the journal still verifies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.federation.journal import checkpoint_of
from ledger.federation.ports import FederationTransactions
from ledger.federation.transfers import journal_of
from ledger.store import SqlUnitOfWorkFactory, archive, create_engine
from ledger.store.federation import SqlFederationStore
from ledger.store.governance import SqlGovernanceStore
from ledger.store.migrate import head_revision, upgrade
from tests.databases import postgres_database, sqlite_url
from tests.ledger.federation_world import make_world

NOW = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "restored.db")
        return
    with postgres_database("cl_restore") as url:
        yield url


@pytest.fixture
async def target(target_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(target_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def test_an_archive_restores_a_side_of_federation(
    engine: AsyncEngine, target: AsyncEngine
) -> None:
    world = await make_world(engine)
    link = await world.link()
    for amount in (30, 45, 60):
        await world.federation.transfers.create(world.a.cid, world.request(link.id, amount))
    slug = world.a.community.slug
    lines = [line async for line in archive.export_lines(engine, slug, head_revision(), NOW)]
    restored = await archive.import_lines(target, lines, head_revision())
    assert restored.rows["federation_journal"] == 3 and restored.rows["federation_links"] == 1
    copy = FederationTransactions(
        SqlUnitOfWorkFactory(target), SqlFederationStore.of, SqlGovernanceStore.of, world.clock
    )
    async with copy.read() as tx:
        assert await tx.store.get_link(world.a.cid, link.id) == link
        journal = await journal_of(tx, world.a.cid, link.id)
    checkpoint = checkpoint_of(link.id, link.proposed_here, journal)
    assert checkpoint.seq == 3 and checkpoint.balances == {"HOURS": 135}
    original = await world.federation.transfers.list_transfers(world.a.cid)
    async with copy.read() as tx:
        assert await tx.store.list_transfers(world.a.cid, after=None, limit=10) == original
