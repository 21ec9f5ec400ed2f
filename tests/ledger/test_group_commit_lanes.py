"""Group commit's lanes (``ledger.books.group_commit``): writes of several communities that wait
in one lane share a transaction (``EntryBatches.post_across``), and each still answers what
``Ledger.post_entry`` alone would have answered at its place in its community's order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.trail import AuditTrail
from ledger.books.batches import EntryBatches, ItemOutcome, Write
from ledger.books.group_commit import GroupCommit
from ledger.books.service import Ledger
from ledger.events.feed import EventFeed
from ledger.events.monitors import Monitors
from ledger.kernel import errors
from ledger.kernel.clock import utc_now
from ledger.kernel.model import Entry, IdempotencyKey
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.events import SqlEventStore
from ledger.store.monitors import SqlMonitorStore
from tests.conftest import unique_slug
from tests.ledger.federation_world import make_world
from tests.ledger.test_group_commit import (
    CountingGroups,
    Plan,
    _balances,
    _Books,
    _call,
    _setup,
    outcome_of,
)
from tests.ledger.test_group_commit import writes as plans_of_one
from tests.ledger.test_service import members, transfer


@dataclass(frozen=True)
class Placed:
    """A generated write and the community (0 or 1) it goes to."""

    community: int
    plan: Plan


placed_plans = plans_of_one.flatmap(
    lambda plans: st.lists(st.integers(0, 1), min_size=len(plans), max_size=len(plans)).map(
        lambda where: [Placed(c, p) for c, p in zip(where, plans, strict=True)]
    )
)


async def _run_two(
    url: str, placed: Sequence[Placed]
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[int], list[int]]:
    engine = create_engine(url)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(uow)
        alone = [await _setup(ledger) for _ in range(2)]
        grouped = [await _setup(ledger) for _ in range(2)]
        writer = GroupCommit(EntryBatches(uow), ledger.post_entry, lanes=1)
        serial: list[tuple[object, ...]] = []
        for write in placed:
            books = alone[write.community]
            try:
                entry = await ledger.post_entry(*_call(books, write.plan))
                serial.append(outcome_of(entry, books.accounts))
            except errors.LedgerError as exc:
                serial.append(outcome_of(exc))
        together = await asyncio.gather(
            *(writer.post_entry(*_call(grouped[w.community], w.plan)) for w in placed),
            return_exceptions=True,
        )
        trail = AuditTrail(uow)
        for books in grouped:
            assert (await trail.verify(books.community.id)).broken is None
        return (
            serial,
            [
                outcome_of(result, grouped[w.community].accounts)
                for w, result in zip(placed, together, strict=True)
            ],
            [b for books in alone for b in await _balances(ledger, books)],
            [b for books in grouped for b in await _balances(ledger, books)],
        )
    finally:
        await engine.dispose()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(placed=placed_plans)
def test_two_communities_in_one_lane_answer_what_serial_writes_would(
    database_url: str, placed: list[Placed]
) -> None:
    serial, together, alone_balances, grouped_balances = asyncio.run(_run_two(database_url, placed))
    assert together == serial
    assert grouped_balances == alone_balances


async def test_writes_of_several_communities_in_one_lane_share_a_transaction(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    groups = CountingGroups(EntryBatches(SqlUnitOfWorkFactory(engine)))
    writer = GroupCommit(groups, ledger.post_entry, lanes=1)
    books = [await _setup(ledger) for _ in range(3)]
    await asyncio.gather(
        *(
            writer.post_entry(b.community.id, transfer(b.accounts[3], b.accounts[0], 1))
            for _ in range(5)
            for b in books
        )
    )
    assert groups.sizes == [15]  # all queued before the lane's worker first ran
    trail = AuditTrail(SqlUnitOfWorkFactory(engine))
    for b in books:
        assert (await ledger.balance(b.community.id, b.accounts[0])).posted == 5
        assert (await trail.verify(b.community.id)).broken is None


class BusyAcross:
    """Groups of one community are written; a group across communities fails transiently."""

    def __init__(self, batches: EntryBatches, failure: Exception) -> None:
        self.batches, self.failure = batches, failure
        self.each: list[uuid.UUID] = []

    async def post_each(
        self, community_id: uuid.UUID, writes: Sequence[Write]
    ) -> list[ItemOutcome]:
        self.each.append(community_id)
        return await self.batches.post_each(community_id, writes)

    async def post_across(
        self, parts: Sequence[tuple[uuid.UUID, Sequence[Write]]]
    ) -> list[list[ItemOutcome]]:
        raise self.failure


async def test_a_transient_failure_across_communities_runs_each_community_again(
    ledger: Ledger,
) -> None:
    """One community's lock past its bound is not another's: each community's keyed writes run
    again in a group of their own; a write without a key gets the failure (its commit may have
    happened), which says to retry."""
    busy = TimeoutError("a lock was held past its bound")
    groups = BusyAcross(EntryBatches(ledger.units), busy)
    writer = GroupCommit(groups, ledger.post_entry, lanes=1, transient=lambda exc: exc is busy)
    books = [await _setup(ledger) for _ in range(2)]

    def write(b: _Books, key: str | None) -> asyncio.Future[Entry]:
        spec = transfer(b.accounts[3], b.accounts[0], 1)
        idem = None if key is None else IdempotencyKey("api_key:test", key)
        return asyncio.ensure_future(writer.post_entry(b.community.id, spec, idem))

    first, second = books
    results = await asyncio.gather(
        write(first, "a1"),
        write(second, "b1"),
        write(first, "a2"),
        write(second, None),
        write(second, "b2"),
        return_exceptions=True,
    )
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Entry", "Entry", "Entry", "TimeoutError", "Entry"]
    assert sorted(groups.each) == sorted([first.community.id, second.community.id])
    assert (await ledger.balance(first.community.id, first.accounts[0])).posted == 2
    assert (await ledger.balance(second.community.id, second.accounts[0])).posted == 2


async def test_an_unexplained_failure_across_communities_runs_keyed_writes_alone(
    ledger: Ledger,
) -> None:
    """A group across communities that failed without saying whether it committed: each keyed
    write runs again alone (a replay at worst); a write without a key is not run twice."""
    lost = ConnectionError("the connection was lost during commit")
    groups = BusyAcross(EntryBatches(ledger.units), lost)
    writer = GroupCommit(groups, ledger.post_entry, lanes=1)
    first, second = [await _setup(ledger) for _ in range(2)]

    def write(b: _Books, key: str | None) -> asyncio.Future[Entry]:
        spec = transfer(b.accounts[3], b.accounts[0], 1)
        idem = None if key is None else IdempotencyKey("api_key:test", key)
        return asyncio.ensure_future(writer.post_entry(b.community.id, spec, idem))

    results = await asyncio.gather(
        write(first, "a1"), write(second, None), write(second, "b1"), return_exceptions=True
    )
    assert isinstance(results[0], Entry) and isinstance(results[2], Entry)
    assert results[1] is lost
    assert groups.each == []  # alone, through ``Ledger.post_entry``: no group of one community
    assert (await ledger.balance(first.community.id, first.accounts[0])).posted == 1
    assert (await ledger.balance(second.community.id, second.accounts[0])).posted == 1


class Watching:
    """``EntryBatches`` that records every failure of a group across communities."""

    def __init__(self, batches: EntryBatches) -> None:
        self.batches = batches
        self.failures: list[Exception] = []
        self.across = 0

    async def post_each(
        self, community_id: uuid.UUID, writes: Sequence[Write]
    ) -> list[ItemOutcome]:
        return await self.batches.post_each(community_id, writes)

    async def post_across(
        self, parts: Sequence[tuple[uuid.UUID, Sequence[Write]]]
    ) -> list[list[ItemOutcome]]:
        self.across += 1
        try:
            return await self.batches.post_across(parts)
        except Exception as exc:
            self.failures.append(exc)
            raise


@pytest.mark.postgres_only
async def test_processes_writing_across_communities_do_not_deadlock(
    postgresql_database_url: str,
) -> None:
    """Two service processes whose lanes take the same two communities' writes in opposite
    orders, on the same accounts: each transaction locks whole communities in id order, so
    neither ever waits for the other while holding what the other needs."""
    engines = [create_engine(postgresql_database_url) for _ in range(2)]
    try:
        ledger = Ledger(SqlUnitOfWorkFactory(engines[0]))
        pairs = []
        for _ in range(2):
            community = await ledger.create_community(unique_slug("lanes"), "Lanes")
            ann, bob = await members(ledger, community, None, None)
            pairs.append((community.id, ann.hours_account_id, bob.hours_account_id))
        watched = [Watching(EntryBatches(SqlUnitOfWorkFactory(engine))) for engine in engines]
        processes = [
            GroupCommit(w, Ledger(SqlUnitOfWorkFactory(e)).post_entry, lanes=1)
            for w, e in zip(watched, engines, strict=True)
        ]

        async def round_(n: int) -> list[Entry]:
            calls = []
            for p, process in enumerate(processes):
                order = pairs if p == 0 else pairs[::-1]  # the two processes see them reversed
                for community_id, ann, bob in order:
                    for k in range(4):
                        key = IdempotencyKey("api_key:test", f"r{n}-p{p}-{k}")
                        calls.append(process.post_entry(community_id, transfer(ann, bob, 1), key))
            return await asyncio.gather(*calls)

        for n in range(15):
            written = await asyncio.wait_for(round_(n), timeout=30)
            assert all(isinstance(e, Entry) for e in written)
        assert sum(w.across for w in watched) >= 2 * 15
        assert [f for w in watched for f in w.failures] == []
        for community_id, payer, _ in pairs:
            assert (await ledger.balance(community_id, payer)).posted == -15 * 2 * 4
            assert (await AuditTrail(ledger.units).verify(community_id)).broken is None
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_group_across_communities_tells_each_its_own_crossings(
    engine: AsyncEngine, ledger: Ledger
) -> None:
    """Each community's balance-monitor crossings go into its own audit record and feed, never
    another's of the same transaction."""
    units = SqlUnitOfWorkFactory(engine)
    monitors = Monitors(units, SqlMonitorStore.of, utc_now)
    feed = EventFeed(units, SqlEventStore.of)
    groups = CountingGroups(EntryBatches(units))
    writer = GroupCommit(groups, ledger.post_entry, lanes=1)
    books = [await _setup(ledger) for _ in range(3)]
    watched = books[:2]  # the third crosses nothing
    for b in watched:
        await monitors.create(b.community.id, b.accounts[3], direction="below", threshold=-2)
    await asyncio.gather(
        *(
            writer.post_entry(b.community.id, transfer(b.accounts[3], b.accounts[0], 1))
            for _ in range(3)
            for b in books
        )
    )
    assert groups.sizes == [9]
    trail = AuditTrail(units)
    for b in books:
        found = await feed.page(b.community.id, types=["balance.threshold_crossed"], limit=100)
        expected = 1 if b in watched else 0
        assert [e.community_id for e in found.events] == [b.community.id] * expected
        assert (await trail.verify(b.community.id)).broken is None


@pytest.mark.postgres_only
async def test_groups_across_communities_and_local_federation_transfers_do_not_deadlock(
    postgresql_database_url: str,
) -> None:
    """A federation transfer on one install writes the payer's side, then the payee's and
    audits the payee first; a group across the same two communities takes their audit heads
    in community order. The transfer takes its heads in that order too, so the two never wait
    for each other while holding what the other needs (on accounts of their own)."""
    engines = [create_engine(postgresql_database_url) for _ in range(2)]
    try:
        world = await make_world(engines[0])
        link = await world.link(we_owe=100_000, they_owe=100_000)
        # The group's accounts, apart from the transfer's.
        own = {
            side.cid: [
                (await world.ledger.create_member(side.cid, f"G{i}", hours_min=None))
                for i in range(2)
            ]
            for side in (world.a, world.b)
        }
        watched = Watching(EntryBatches(SqlUnitOfWorkFactory(engines[1])))
        group = GroupCommit(watched, Ledger(SqlUnitOfWorkFactory(engines[1])).post_entry, lanes=1)

        async def write(n: int) -> None:
            for k in range(n):
                await asyncio.gather(
                    *(
                        group.post_entry(
                            cid,
                            transfer(x.hours_account_id, y.hours_account_id, 1),
                            IdempotencyKey("api_key:test", f"g{k}-{cid}-{j}"),
                        )
                        for cid, (x, y) in own.items()
                        for j in range(2)
                    )
                )

        async def pay(n: int) -> None:
            for _ in range(n):
                await world.federation.transfers.create(world.a.cid, world.request(link.id, 1))

        await asyncio.wait_for(asyncio.gather(write(60), pay(30), pay(30)), timeout=60)
        assert watched.across >= 30
        assert watched.failures == []
    finally:
        for engine in engines:
            await engine.dispose()
