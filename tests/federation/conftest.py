"""Two in-process nodes, one on SQLite and one on PostgreSQL (each way round)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from ledger.store import create_engine
from tests.databases import postgres_database, sqlite_url
from tests.federation.nodes import Clock, Node, Wire, node
from tests.federation.processes import ProcessNode, set_up

_PORTS = itertools.count(7001, 2)


@dataclass
class Pair:
    a: Node
    """The payer's node."""
    b: Node
    """The payee's node."""
    clock: Clock
    wire: Wire


@pytest.fixture(
    params=[("sqlite", "postgresql"), ("postgresql", "sqlite")], ids=["A-sqlite", "A-pg"]
)
def pair_urls(request: pytest.FixtureRequest) -> list[str]:
    """The payer node's database and the payee node's (the migrated session databases)."""
    return [request.getfixturevalue(f"{name}_database_url") for name in request.param]


@pytest.fixture
async def pair(pair_urls: list[str]) -> AsyncIterator[Pair]:
    urls = pair_urls
    engines = [create_engine(url) for url in urls]
    # Fresh node URLs per test: messages other tests left in the session databases' outboxes
    # (a key rotation announces itself on every link) go nowhere.
    port = next(_PORTS)
    urls_of_nodes = (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}")
    clock, wire = Clock(), Wire()
    a, b = (
        node(engine, url, clock, wire) for engine, url in zip(engines, urls_of_nodes, strict=True)
    )
    try:
        yield Pair(a, b, clock, wire)
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.fixture(scope="session")
def linked_nodes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ProcessNode, ProcessNode, str]]:
    """Two real nodes — ``commons-ledger serve`` on SQLite (A, the payer's) and on PostgreSQL
    (B) — and a link between them, once per test process: starting them is most of the cost,
    so every module with real processes shares them (tests that kill a node restart it)."""
    tmp_path = tmp_path_factory.mktemp("two-nodes")
    with postgres_database("cl_fed") as b_url:
        a = ProcessNode("A", sqlite_url(tmp_path / "a.db"), tmp_path / "a.log")
        b = ProcessNode("B", b_url, tmp_path / "b.log")
        try:
            link_id = set_up(a, b)
            yield a, b, link_id
        finally:
            a.stop()
            b.stop()
