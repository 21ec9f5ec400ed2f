"""Fault tests run against real PostgreSQL only, each in bounded time, on loopback only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import postgres_database


@pytest.fixture
def fault_database() -> Iterator[str]:
    """A fresh database on the shared server, for a service started as a child process (which
    migrates it)."""
    with postgres_database("cl_fault") as url:
        yield url
