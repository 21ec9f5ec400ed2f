"""Random sequences of approvals and rejections against a reference model of the quorum rule:
a request posts exactly when ``approvals_required`` distinct stewards other than the requester
have approved before any rejection, and never counts anyone twice."""

from __future__ import annotations

import asyncio
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.governance.model import DisbursementStatus
from ledger.kernel import errors
from ledger.kernel.model import EntryStatus
from ledger.store import create_engine
from tests.ledger.governance_world import make_world

STEWARDS = 4
# (who: 0..4, where 4 is not a steward; approve or reject)
ACTIONS = st.lists(st.tuples(st.integers(0, STEWARDS), st.booleans()), max_size=12)


def _model(requester: int, required: int, actions: list[tuple[int, bool]]) -> tuple[str, list[int]]:
    status, approvals = "pending", []
    for who, approve in actions:
        if who == STEWARDS or (status != "pending" and who not in approvals):
            continue
        if not approve:
            status = "rejected" if status == "pending" else status
        elif who != requester and who not in approvals:
            approvals.append(who)
            if len(approvals) >= required:
                status = "approved"
    return status, approvals


async def _run(
    engine: AsyncEngine, requester: int, required: int, actions: list[tuple[int, bool]]
) -> None:
    world = await make_world(engine)
    await world.stewards(*range(STEWARDS))
    await world.configure(approvals_required=required)
    await world.move("Assets:EmergencyFund", "Assets:Bank", 1_000, date(2026, 11, 1))
    fund, ids = world.governance.fund, [m.id for m in world.members]
    request = await fund.request(
        world.cid,
        payee_account_id=world.accounts["Expenses:Repairs"].id,
        amount=400,
        reason="x",
        requested_by=ids[requester],
    )
    for who, approve in actions:
        try:
            if approve:
                await fund.approve(world.cid, request.id, ids[who])
            else:
                await fund.reject(world.cid, request.id, ids[who])
        except errors.LedgerError:
            pass
    status, approvals = _model(requester, required, actions)
    found = await fund.get(world.cid, request.id)
    assert found.status.value == status
    assert sorted(found.approvals) == sorted(ids[i] for i in approvals)
    entry = await world.ledger.get_entry(world.cid, request.id)
    expected_entry = {
        DisbursementStatus.APPROVED: EntryStatus.POSTED,
        DisbursementStatus.PENDING: EntryStatus.PENDING,
        DisbursementStatus.REJECTED: EntryStatus.VOIDED,
    }[found.status]
    assert entry.status is expected_entry
    balance = (await fund.status(world.cid)).posted
    assert balance == (600 if status == "approved" else 1_000)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(requester=st.integers(0, STEWARDS - 1), required=st.integers(1, 3), actions=ACTIONS)
def test_approvals_follow_the_quorum_model(
    database_url: str, requester: int, required: int, actions: list[tuple[int, bool]]
) -> None:
    async def scenario() -> None:
        engine = create_engine(database_url)
        try:
            await _run(engine, requester, required, actions)
        finally:
            await engine.dispose()

    asyncio.run(scenario())
