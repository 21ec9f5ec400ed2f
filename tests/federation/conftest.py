"""Two in-process nodes, one on SQLite and one on PostgreSQL (each way round); for routing
through a hub, three communities on three nodes (or the payee back on the payer's node)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from ledger.store import create_engine
from tests.databases import migrate, postgres_database, sqlite_url
from tests.federation.nodes import Clock, Node, Wire, node
from tests.federation.processes import ProcessNode, set_up
from tests.federation.routes import Route, route

_PORTS = itertools.count(7001, 2)
_ROUTE_PORTS = itertools.count(17001, 3)


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
def second_sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A third install's database: each node has a database of its own (its keys, its links)."""
    url = sqlite_url(tmp_path_factory.mktemp("sqlite-2") / "ledger.db")
    asyncio.run(migrate(url))
    return url


@pytest.fixture(
    params=[
        ("sqlite", "postgresql", "second_sqlite"),
        ("postgresql", "sqlite", "second_sqlite"),
        ("sqlite", "postgresql", None),
    ],
    ids=["A-sqlite,H-pg,C-sqlite", "A-pg,H-sqlite,C-sqlite", "A-sqlite,H-pg,C-on-A"],
)
def route_urls(request: pytest.FixtureRequest) -> list[str | None]:
    """The payer's node's database, the hub's, and the payee's (None: the payer's node)."""
    return [
        None if name is None else request.getfixturevalue(f"{name}_database_url")
        for name in request.param
    ]


@dataclass
class RouteNodes:
    a: Node
    """The payer's node."""
    h: Node
    """The hub's node."""
    c: Node
    """The payee's node (the payer's, in the case that comes back)."""
    clock: Clock
    wire: Wire


@pytest.fixture
async def route_nodes(route_urls: list[str | None]) -> AsyncIterator[RouteNodes]:
    urls = [url for url in route_urls if url is not None]
    engines = [create_engine(url) for url in urls]
    port = next(_ROUTE_PORTS)
    clock, wire = Clock(), Wire()
    nodes = [
        node(engine, f"http://127.0.0.1:{port + i}", clock, wire)
        for i, engine in enumerate(engines)
    ]
    try:
        yield RouteNodes(
            nodes[0], nodes[1], nodes[-1] if len(nodes) == 3 else nodes[0], clock, wire
        )
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.fixture
async def hub_route(route_nodes: RouteNodes) -> Route:
    """Riverside on the first node, linked to the hub on the second, linked to Valley."""
    n = route_nodes
    return await route(n.a, n.h, n.c, n.clock, n.wire)


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
