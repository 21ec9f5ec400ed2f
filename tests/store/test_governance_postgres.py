"""Group decisions under concurrency on PostgreSQL: approvals arriving at once post a request
exactly once and never count a steward twice; concurrent expiry runs expire each request once;
concurrent consents adopt a budget once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ledger.books.ports import UnitOfWork
from ledger.governance.fund import EmergencyFund
from ledger.governance.model import (
    BudgetLine,
    BudgetStatus,
    Disbursement,
    DisbursementStatus,
    Role,
)
from ledger.governance.ports import GovernanceStore
from ledger.governance.transactions import GovernanceTransactions
from ledger.kernel import errors
from ledger.kernel.model import EntryStatus
from ledger.store import create_engine
from ledger.store.governance import SqlGovernanceStore
from ledger.store.tables import audit_log
from ledger.store.uow import SqlUnitOfWork
from tests.ledger.governance_world import World, make_world

pytestmark = pytest.mark.postgres_only

APPROVERS = 8


@pytest.fixture
async def world(postgresql_database_url: str) -> AsyncIterator[World]:
    engine = create_engine(postgresql_database_url)
    try:
        world = await make_world(engine)
        for index in range(APPROVERS):
            member = await world.ledger.create_member(world.cid, f"Steward {index}")
            world.members.append(member)
            await world.governance.roles.assign(world.cid, member.id, Role.STEWARD)
        await world.move("Assets:EmergencyFund", "Assets:Bank", 100_000, date(2026, 11, 1))
        yield world
    finally:
        await engine.dispose()


async def _audit_count(world: World, operation: str) -> int:
    async with world.engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            audit_log.c.community_id == world.cid, audit_log.c.operation == operation
        )
        return int((await conn.execute(query)).scalar_one())


async def _settle(calls: Sequence[Awaitable[object]]) -> list[object]:
    return list(await asyncio.gather(*calls, return_exceptions=True))


async def test_concurrent_approvals_post_exactly_once(world: World) -> None:
    await world.configure(approvals_required=3)
    fund = world.governance.fund
    request = await fund.request(
        world.cid,
        payee_account_id=world.accounts["Expenses:Repairs"].id,
        amount=40_000,
        reason="Roof",
    )
    stewards = [m.id for m in world.members[-APPROVERS:]]
    outcomes = await _settle([fund.approve(world.cid, request.id, s) for s in stewards])
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(
        isinstance(o, errors.LedgerError) and o.code == "disbursement_not_pending" for o in refused
    ), refused
    assert len(refused) == APPROVERS - 3
    found = await fund.get(world.cid, request.id)
    assert (found.status, len(found.approvals), len(set(found.approvals))) == (
        DisbursementStatus.APPROVED,
        3,
        3,
    )
    assert (await world.ledger.get_entry(world.cid, request.id)).status is EntryStatus.POSTED
    assert (await fund.status(world.cid)).posted == 60_000
    assert await _audit_count(world, "post_disbursement") == 1


async def test_one_steward_approving_many_times_at_once_counts_once(world: World) -> None:
    await world.configure(approvals_required=2)
    fund, steward = world.governance.fund, world.members[-1].id
    request = await fund.request(
        world.cid,
        payee_account_id=world.accounts["Expenses:Repairs"].id,
        amount=1_000,
        reason="Van",
    )
    outcomes = await _settle([fund.approve(world.cid, request.id, steward) for _ in range(8)])
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    found = await fund.get(world.cid, request.id)
    assert (found.status, found.approvals) == (DisbursementStatus.PENDING, (steward,))
    assert await _audit_count(world, "approve_disbursement") == 1


async def test_concurrent_expiry_runs_expire_each_request_once(world: World) -> None:
    await world.configure()
    fund = world.governance.fund
    for index in range(6):
        await fund.request(
            world.cid,
            payee_account_id=world.accounts["Expenses:Repairs"].id,
            amount=1_000,
            reason=f"r{index}",
            deadline_at=world.clock.now + timedelta(hours=1),
        )
    later = world.clock.now + timedelta(hours=2)
    counts = await asyncio.gather(*(fund.expire_overdue(world.cid, later) for _ in range(4)))
    assert sum(counts) == 6
    assert await _audit_count(world, "expire_disbursement") == 6
    assert (await fund.status(world.cid)).available == 100_000


async def test_concurrent_consents_adopt_once(world: World) -> None:
    await world.configure()
    budgets = world.governance.budgets
    budget = await budgets.create(
        world.cid, "B", "2026-Q4", [BudgetLine("Expenses:Food", "EUR", 1)]
    )
    stewards = [m.id for m in world.members[-APPROVERS:]]
    outcomes = await _settle([budgets.consent(world.cid, budget.id, s) for s in stewards])
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    found = await budgets.get(world.cid, budget.id)
    assert (found.status, len(found.consents)) == (BudgetStatus.ADOPTED, APPROVERS)
    assert await _audit_count(world, "adopt_budget") == 1


class _UnlockedStore(SqlGovernanceStore):
    """Reads requests without their row lock: the read-then-write race the lock prevents."""

    async def get_disbursement(
        self, community_id: uuid.UUID, disbursement_id: uuid.UUID, *, lock: bool = False
    ) -> Disbursement | None:
        return await super().get_disbursement(community_id, disbursement_id, lock=False)


def _unlocked(uow: UnitOfWork) -> GovernanceStore:
    assert isinstance(uow, SqlUnitOfWork)
    return _UnlockedStore(uow.connection)


async def test_the_check_sees_over_and_under_counting_without_the_lock(world: World) -> None:
    """The same approvals through a store that skips the row lock miscount: proof that the
    exactly-once test above can fail."""
    await world.configure(approvals_required=3)
    units = GovernanceTransactions(world.ledger.units, _unlocked, world.clock)
    fund = EmergencyFund(units, world.ledger)
    request = await fund.request(
        world.cid,
        payee_account_id=world.accounts["Expenses:Repairs"].id,
        amount=40_000,
        reason="Roof",
    )
    stewards = [m.id for m in world.members[-APPROVERS:]]
    await _settle([fund.approve(world.cid, request.id, s) for s in stewards])
    found = await fund.get(world.cid, request.id)
    assert (found.status, len(found.approvals)) != (DisbursementStatus.APPROVED, 3)
