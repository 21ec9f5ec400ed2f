"""Group commit of single writes (``ledger.books.group_commit``): every write answers what
``Ledger.post_entry`` alone would have answered at its place in the arrival order, on both
engines, whatever groups the writes fell into."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.chain import Actor, AuditContext, acting
from ledger.audit.trail import AuditTrail
from ledger.books.batches import EntryBatches, ItemOutcome, Write
from ledger.books.group_commit import GroupCommit
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community, Entry, IdempotencyKey, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.conftest import unique_slug
from tests.ledger.test_service import members, transfer


class CountingGroups:
    """``EntryBatches`` that records the size of every group it was given."""

    def __init__(self, batches: EntryBatches) -> None:
        self.batches = batches
        self.sizes: list[int] = []

    async def post_each(
        self, community_id: uuid.UUID, writes: Sequence[Write]
    ) -> list[ItemOutcome]:
        self.sizes.append(len(writes))
        return await self.batches.post_each(community_id, writes)

    async def post_across(
        self, parts: Sequence[tuple[uuid.UUID, Sequence[Write]]]
    ) -> list[list[ItemOutcome]]:
        self.sizes.append(sum(len(writes) for _, writes in parts))
        return await self.batches.post_across(parts)


def outcome_of(
    result: Entry | BaseException, accounts: Sequence[uuid.UUID] = ()
) -> tuple[object, ...]:
    """What a caller can compare across two runs: the error's code, or the entry's content
    (accounts by their place in ``accounts``)."""
    if isinstance(result, errors.LedgerError):
        return ("error", result.code)
    assert isinstance(result, Entry), result
    postings = [(accounts.index(p.account_id), p.amount) for p in result.postings]
    return ("entry", result.status, postings, result.description)


@dataclass(frozen=True)
class Plan:
    """A write of the generated sequence: who pays whom, how much, under which key."""

    debit: int
    credit: int
    minutes: int
    key: str | None
    pending: bool


writes = st.lists(
    st.builds(
        Plan,
        debit=st.integers(0, 3),
        credit=st.integers(0, 3),
        minutes=st.integers(1, 90),
        key=st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3", "k4"])),
        pending=st.booleans(),
    ),
    min_size=1,
    max_size=24,
)


async def _run(
    url: str, plans: Sequence[Plan], group_max: int
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[int], list[int]]:
    engine = create_engine(url)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(uow)
        alone = await _setup(ledger)
        grouped = await _setup(ledger)
        groups = CountingGroups(EntryBatches(uow))
        writer = GroupCommit(groups, ledger.post_entry, group_max=group_max)

        serial: list[tuple[object, ...]] = []
        for plan in plans:
            try:
                serial.append(
                    outcome_of(await ledger.post_entry(*_call(alone, plan)), alone.accounts)
                )
            except errors.LedgerError as exc:
                serial.append(outcome_of(exc))
        together = await asyncio.gather(
            *(writer.post_entry(*_call(grouped, plan)) for plan in plans), return_exceptions=True
        )
        return (
            serial,
            [outcome_of(result, grouped.accounts) for result in together],
            await _balances(ledger, alone),
            await _balances(ledger, grouped),
        )
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class _Books:
    community: Community
    accounts: list[uuid.UUID]


async def _setup(ledger: Ledger) -> _Books:
    community = await ledger.create_community(unique_slug("gc"), "Group commit")
    people = [
        await ledger.create_member(community.id, f"M{i}", hours_min=limit)
        for i, limit in enumerate((-60, -60, -120, None))
    ]
    return _Books(community, [m.hours_account_id for m in people])


def _call(books: _Books, plan: Plan) -> tuple[uuid.UUID, NewEntry, IdempotencyKey | None]:
    debit, credit = books.accounts[plan.debit], books.accounts[plan.credit]
    if plan.debit == plan.credit:
        entry = NewEntry((PostingSpec(debit, plan.minutes),), description="one posting")
    else:
        entry = transfer(
            debit, credit, plan.minutes, pending=plan.pending, description=f"{plan.minutes}"
        )
    key = None if plan.key is None else IdempotencyKey("api_key:test", plan.key)
    return books.community.id, entry, key


async def _balances(ledger: Ledger, books: _Books) -> list[int]:
    found = [await ledger.balance(books.community.id, a) for a in books.accounts]
    return [value for b in found for value in (b.posted, b.pending, b.available)]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=writes, group_max=st.sampled_from([2, 5, 200]))
def test_grouped_writes_answer_what_serial_writes_would(
    database_url: str, plans: list[Plan], group_max: int
) -> None:
    serial, together, alone_balances, grouped_balances = asyncio.run(
        _run(database_url, plans, group_max)
    )
    assert together == serial
    assert grouped_balances == alone_balances


async def test_writes_that_arrive_together_share_a_transaction(
    engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    groups = CountingGroups(EntryBatches(SqlUnitOfWorkFactory(engine)))
    writer = GroupCommit(groups, ledger.post_entry, group_max=8)
    await asyncio.gather(
        *(
            writer.post_entry(community.id, transfer(ann.hours_account_id, bob.hours_account_id, 1))
            for _ in range(30)
        )
    )
    # All thirty are queued before the community's worker first runs.
    assert groups.sizes == [8, 8, 8, 6]
    assert (await ledger.balance(community.id, bob.hours_account_id)).posted == 30
    assert (await AuditTrail(SqlUnitOfWorkFactory(engine)).verify(community.id)).broken is None


class FailingGroups:
    def __init__(self, failure: Exception) -> None:
        self.failure = failure

    async def post_each(
        self, community_id: uuid.UUID, writes: Sequence[Write]
    ) -> list[ItemOutcome]:
        raise self.failure

    async def post_across(
        self, parts: Sequence[tuple[uuid.UUID, Sequence[Write]]]
    ) -> list[list[ItemOutcome]]:
        raise self.failure


async def test_a_group_refused_whole_runs_each_write_alone(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, -10, None)
    refused = errors.InvalidInput("the group was refused as a whole")
    writer = GroupCommit(FailingGroups(refused), ledger.post_entry)
    results = await asyncio.gather(
        *(
            writer.post_entry(community.id, transfer(ann.hours_account_id, bob.hours_account_id, 4))
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    # Alone, each write meets the limit exactly where serial writes would.
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Entry", "Entry", "LimitExceeded", "LimitExceeded"]  # as serial writes
    assert (await ledger.balance(community.id, bob.hours_account_id)).posted == 8


async def test_an_unexplained_group_failure_is_retried_only_under_a_key(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    lost = ConnectionError("the connection was lost during commit")
    writer = GroupCommit(FailingGroups(lost), ledger.post_entry)

    def write(key: str | None) -> asyncio.Future[Entry]:
        spec = transfer(ann.hours_account_id, bob.hours_account_id, 1)
        idem = None if key is None else IdempotencyKey("api_key:test", key)
        return asyncio.ensure_future(writer.post_entry(community.id, spec, idem))

    results = await asyncio.gather(
        write("first"), write(None), write("k"), write(None), return_exceptions=True
    )
    assert isinstance(results[0], Entry)  # alone: no group
    assert results[1] is lost and results[3] is lost  # it may have committed: not run twice
    assert isinstance(results[2], Entry)  # a keyed write is safe to run again: a replay at worst
    assert (await ledger.balance(community.id, bob.hours_account_id)).posted == 2


async def test_a_transient_failure_of_a_group_answers_every_write_at_once(
    ledger: Ledger, community: Community
) -> None:
    """A lock held past its bound: running the group's writes again one by one would make each
    wait out the bound in turn; every write gets the failure, which says to retry."""
    ann, bob = await members(ledger, community, None, None)
    busy = TimeoutError("a lock was held past its bound")
    writer = GroupCommit(FailingGroups(busy), ledger.post_entry, transient=lambda exc: exc is busy)
    spec = transfer(ann.hours_account_id, bob.hours_account_id, 1)
    results = await asyncio.gather(
        *(
            writer.post_entry(community.id, spec, IdempotencyKey("api_key:test", f"k{n}"))
            for n in range(4)
        ),
        return_exceptions=True,
    )
    assert results == [busy] * 4  # one group, and no write of it run again
    assert (await ledger.balance(community.id, bob.hours_account_id)).posted == 0


async def test_a_caller_that_leaves_before_its_write_is_taken_writes_nothing(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    writer = GroupCommit(EntryBatches(ledger.units), ledger.post_entry, group_max=10)

    def write(minutes: int) -> asyncio.Task[Entry]:
        spec = transfer(ann.hours_account_id, bob.hours_account_id, minutes)
        return asyncio.create_task(writer.post_entry(community.id, spec))

    first, gone, kept = write(1), write(10), write(100)
    await asyncio.sleep(0)  # all three queued, none taken yet
    gone.cancel()
    await asyncio.gather(first, kept)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert (await ledger.balance(community.id, bob.hours_account_id)).posted == 101


@pytest.mark.postgres_only
async def test_processes_grouping_apart_keep_a_shared_limit(postgresql_database_url: str) -> None:
    """Two service processes (two writers with their own queues and engines) spend from one
    account with a limit concurrently: exactly as many writes as the limit allows take effect."""
    engines = [create_engine(postgresql_database_url) for _ in range(2)]
    try:
        await _share_a_limit(engines)
    finally:
        for engine in engines:
            await engine.dispose()


async def _share_a_limit(engines: list[AsyncEngine]) -> None:
    ledger = Ledger(SqlUnitOfWorkFactory(engines[0]))
    community = await ledger.create_community(unique_slug("gc"), "Two processes")
    fund, *people = await members(ledger, community, -100, None, None, None)
    processes = [
        GroupCommit(
            EntryBatches(SqlUnitOfWorkFactory(engine)),
            Ledger(SqlUnitOfWorkFactory(engine)).post_entry,
            group_max=7,
        )
        for engine in engines
    ]
    results = await asyncio.gather(
        *(
            processes[n % 2].post_entry(
                community.id,
                transfer(fund.hours_account_id, people[n % 3].hours_account_id, 3),
                IdempotencyKey("api_key:test", f"w{n}"),
            )
            for n in range(60)
        ),
        return_exceptions=True,
    )
    written = [r for r in results if isinstance(r, Entry)]
    refused = [r for r in results if isinstance(r, errors.LedgerError)]
    assert len(written) == 33 and len(refused) == 27  # 33 × 3 = 99 ≤ 100 < 34 × 3
    assert {r.code for r in refused} == {"limit_exceeded"}
    assert (await ledger.balance(community.id, fund.hours_account_id)).posted == -99
    assert (await AuditTrail(ledger.units).verify(community.id)).broken is None


async def test_each_write_of_a_group_is_audited_as_its_callers(
    engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    groups = CountingGroups(EntryBatches(SqlUnitOfWorkFactory(engine)))
    writer = GroupCommit(groups, ledger.post_entry)

    async def write_as(n: int) -> Entry:
        caller = AuditContext(Actor("api_key", f"key-{n}", None, "write"), request_id=f"req-{n}")
        with acting(caller):
            spec = transfer(ann.hours_account_id, bob.hours_account_id, n + 1)
            return await writer.post_entry(community.id, spec)

    written = await asyncio.gather(*(write_as(n) for n in range(6)))
    assert groups.sizes == [6]
    records = await AuditTrail(SqlUnitOfWorkFactory(engine)).records(community.id, limit=100)
    by_entry = {r.result_ids[0]: r for r in records if r.operation == "post_entry"}
    assert [(by_entry[str(e.id)].actor_id, by_entry[str(e.id)].request_id) for e in written] == [
        (f"key-{n}", f"req-{n}") for n in range(6)
    ]


async def test_a_stopped_worker_leaves_no_caller_waiting(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    started = asyncio.Event()

    class Stalling:
        async def post_each(
            self, community_id: uuid.UUID, writes: Sequence[Write]
        ) -> list[ItemOutcome]:
            started.set()
            await asyncio.Event().wait()  # never answers
            raise AssertionError("unreachable")

        async def post_across(
            self, parts: Sequence[tuple[uuid.UUID, Sequence[Write]]]
        ) -> list[list[ItemOutcome]]:
            raise AssertionError("one community: never across")

    writer = GroupCommit(Stalling(), ledger.post_entry)
    spec = transfer(ann.hours_account_id, bob.hours_account_id, 1)
    callers = [asyncio.create_task(writer.post_entry(community.id, spec)) for _ in range(3)]
    await started.wait()
    queued = asyncio.create_task(writer.post_entry(community.id, spec))
    await asyncio.sleep(0)
    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__ == "GroupCommit._work":  # type: ignore[union-attr]
            task.cancel()
    for caller in (*callers, queued):
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(caller, timeout=5)
