"""Two in-process nodes, one on SQLite and one on PostgreSQL (each way round)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from ledger.store import create_engine
from tests.federation.nodes import Clock, Node, Wire, node

A_URL = "http://127.0.0.1:7001"
B_URL = "http://127.0.0.1:7002"


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
    clock, wire = Clock(), Wire()
    a, b = (
        node(engine, url, clock, wire) for engine, url in zip(engines, (A_URL, B_URL), strict=True)
    )
    try:
        yield Pair(a, b, clock, wire)
    finally:
        for engine in engines:
            await engine.dispose()
