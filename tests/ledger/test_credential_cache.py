"""The in-memory credential cache: requests skip the database read, and revocation still takes
effect — at once through the same process, within ``CREDENTIAL_CACHE_TTL`` from another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.access.credentials import CREDENTIAL_CACHE_TTL, LAST_USED_RESOLUTION, Access
from ledger.access.principals import Scope
from ledger.books.ports import UnitOfWork
from ledger.kernel.model import Community
from ledger.store import SqlUnitOfWorkFactory


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class CountingUnitsOfWork:
    """Opens units of work on an engine and counts them, reads and writes apart."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._inner = SqlUnitOfWorkFactory(engine)
        self.reads = 0
        self.writes = 0

    def __call__(self, *, write: bool, snapshot: bool = True) -> UnitOfWork:
        if write:
            self.writes += 1
        else:
            self.reads += 1
        return self._inner(write=write, snapshot=snapshot)


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_a_cached_credential_costs_no_database_read(
    engine: AsyncEngine, community: Community, clock: Clock
) -> None:
    units = CountingUnitsOfWork(engine)
    access = Access(units, clock)
    _, secret = await access.issue_api_key(community.id, "till", frozenset({Scope.WRITE}))
    first = await access.authenticate(secret)
    reads, writes = units.reads, units.writes
    for _ in range(5):
        clock.now += timedelta(milliseconds=100)
        assert await access.authenticate(secret) == first
    assert (units.reads, units.writes) == (reads, writes)
    clock.now += CREDENTIAL_CACHE_TTL
    assert await access.authenticate(secret) == first
    assert units.reads == reads + 1, "past the bound the credential is read again"


async def test_revoking_through_the_same_process_takes_effect_at_once(
    engine: AsyncEngine, community: Community, clock: Clock
) -> None:
    access = Access(SqlUnitOfWorkFactory(engine), clock)
    key, secret = await access.issue_api_key(community.id, "k", frozenset({Scope.READ}))
    assert await access.authenticate(secret) is not None
    await access.revoke(community.id, key.id)
    assert await access.authenticate(secret) is None


async def test_revoking_elsewhere_takes_effect_within_the_bound(
    engine: AsyncEngine, community: Community, clock: Clock
) -> None:
    server = Access(SqlUnitOfWorkFactory(engine), clock)
    operator = Access(SqlUnitOfWorkFactory(engine), clock)  # e.g. `commons-ledger revoke-key`
    key, secret = await operator.issue_api_key(community.id, "k", frozenset({Scope.READ}))
    assert await server.authenticate(secret) is not None
    await operator.revoke(community.id, key.id)
    clock.now += CREDENTIAL_CACHE_TTL
    assert await server.authenticate(secret) is None
    clock.now += timedelta(milliseconds=1)
    assert await server.authenticate(secret) is None, "a revoked credential is not re-cached"


async def test_expiry_is_exact_even_for_a_cached_credential(
    engine: AsyncEngine, community: Community, clock: Clock
) -> None:
    access = Access(SqlUnitOfWorkFactory(engine), clock)
    expires_at = clock.now + timedelta(seconds=1)
    _, secret = await access.issue_api_key(
        community.id, "k", frozenset({Scope.READ}), expires_at=expires_at
    )
    assert await access.authenticate(secret) is not None
    clock.now = expires_at
    assert await access.authenticate(secret) is None


async def test_last_use_is_written_at_most_once_a_minute(
    engine: AsyncEngine, community: Community, clock: Clock
) -> None:
    units = CountingUnitsOfWork(engine)
    access = Access(units, clock)
    _, secret = await access.issue_api_key(community.id, "k", frozenset({Scope.READ}))
    writes = units.writes
    await access.authenticate(secret)
    assert units.writes == writes + 1
    for _ in range(20):
        clock.now += LAST_USED_RESOLUTION / 20 - timedelta(milliseconds=1)
        await access.authenticate(secret)
    assert units.writes == writes + 1
    clock.now += timedelta(milliseconds=100)
    await access.authenticate(secret)
    assert units.writes == writes + 2


async def test_no_cache_when_the_bound_is_zero(
    engine: AsyncEngine, community: Community, clock: Clock
) -> None:
    units = CountingUnitsOfWork(engine)
    access = Access(units, clock, cache_ttl=timedelta(0))
    _, secret = await access.issue_api_key(community.id, "k", frozenset({Scope.READ}))
    await access.authenticate(secret)
    reads = units.reads
    await access.authenticate(secret)
    assert units.reads == reads + 1
