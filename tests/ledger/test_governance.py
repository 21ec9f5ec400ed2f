"""Rotating roles, budgets adopted by consent, and the emergency fund, on both engines."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.governance.model import (
    BudgetLine,
    BudgetNotDraft,
    BudgetStatus,
    BudgetSuperseded,
    ConsentMissing,
    ConsentRule,
    DisbursementNotPending,
    DisbursementStatus,
    FundNotConfigured,
    NotASteward,
    NotATreasurer,
    Role,
    SelfApproval,
    StepAction,
)
from ledger.kernel import errors
from ledger.kernel.model import EntryStatus, IdempotencyKey
from tests.ledger.governance_world import World, make_world

EUR_FOOD = BudgetLine("Expenses:Food", "EUR", 10_000)
EUR_FARM = BudgetLine("Income:Farm", "EUR", 50_000)


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return await make_world(engine)


# Roles ---------------------------------------------------------------------------------------


async def test_powers_start_and_end_with_the_term(world: World) -> None:
    roles, ann = world.governance.roles, world.members[0].id
    term = await roles.assign(
        world.cid, ann, Role.STEWARD, starts_at=world.clock.now + timedelta(hours=1)
    )
    assert await roles.current_roles(world.cid, ann) == frozenset()
    world.clock.advance(timedelta(hours=1))
    assert await roles.current_roles(world.cid, ann) == {Role.STEWARD}
    world.clock.advance(timedelta(minutes=5))
    ended = await roles.end(world.cid, term.id)
    assert ended.ends_at == world.clock.now and ended.ended_at == world.clock.now
    assert await roles.current_roles(world.cid, ann) == frozenset()
    assert await roles.end(world.cid, term.id) == ended  # ending twice changes nothing
    history = await roles.list_terms(world.cid, member_id=ann)
    assert [t.id for t in history] == [term.id]
    assert await roles.list_terms(world.cid, current=True) == []


async def test_a_fixed_term_ends_by_itself(world: World) -> None:
    roles, bob = world.governance.roles, world.members[1].id
    await roles.assign(world.cid, bob, Role.TREASURER, ends_at=world.clock.now + timedelta(days=30))
    assert await roles.current_roles(world.cid, bob) == {Role.TREASURER}
    world.clock.advance(timedelta(days=30))
    assert await roles.current_roles(world.cid, bob) == frozenset()


async def test_only_a_current_treasurer_member_assigns_roles(world: World) -> None:
    roles = world.governance.roles
    ann, bob, cy = (m.id for m in world.members[:3])
    with pytest.raises(NotATreasurer):
        await roles.assign(world.cid, cy, Role.STEWARD, by_member=ann)
    term = await roles.assign(world.cid, ann, Role.TREASURER)
    assert (await roles.assign(world.cid, cy, Role.STEWARD, by_member=ann)).member_id == cy
    await roles.end(world.cid, term.id)
    with pytest.raises(NotATreasurer):
        await roles.assign(world.cid, bob, Role.STEWARD, by_member=ann)


# Budgets -------------------------------------------------------------------------------------


async def test_consensus_needs_every_current_steward(world: World) -> None:
    await world.stewards(0, 1)
    budgets = world.governance.budgets
    ann, bob, cy = (m.id for m in world.members[:3])
    budget = await budgets.create(world.cid, "Running costs", "2026-Q4", [EUR_FOOD])
    assert (budget.status, budget.period_start, budget.period_end) == (
        BudgetStatus.DRAFT,
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    first = await budgets.consent(world.cid, budget.id, ann, "fine by me")
    assert first.status is BudgetStatus.DRAFT
    again = await budgets.consent(world.cid, budget.id, ann)
    assert [c.member_id for c in again.consents] == [ann]
    with pytest.raises(NotASteward):
        await budgets.consent(world.cid, budget.id, cy)
    with pytest.raises(ConsentMissing):
        await budgets.adopt(world.cid, budget.id)
    adopted = await budgets.consent(world.cid, budget.id, bob)
    assert adopted.status is BudgetStatus.ADOPTED
    assert adopted.adopted_at == world.clock.now
    assert (await budgets.get(world.cid, budget.id)).status is BudgetStatus.ADOPTED
    await world.stewards(2)
    with pytest.raises(BudgetNotDraft):
        await budgets.consent(world.cid, budget.id, cy)


async def test_consensus_without_stewards_adopts_nothing(world: World) -> None:
    budget = await world.governance.budgets.create(world.cid, "B", "2026-11", [EUR_FOOD])
    with pytest.raises(ConsentMissing):
        await world.governance.budgets.adopt(world.cid, budget.id)


async def test_a_quorum_of_current_stewards_adopts(world: World) -> None:
    await world.configure(consent_rule=ConsentRule.QUORUM, consent_quorum=2)
    await world.stewards(0, 1, 2)
    budgets = world.governance.budgets
    budget = await budgets.create(world.cid, "B", "2026", [EUR_FOOD])
    await budgets.consent(world.cid, budget.id, world.members[0].id)
    adopted = await budgets.consent(world.cid, budget.id, world.members[2].id)
    assert adopted.status is BudgetStatus.ADOPTED


async def test_a_steward_whose_term_ended_is_refused_and_not_counted(world: World) -> None:
    await world.configure(consent_rule=ConsentRule.QUORUM, consent_quorum=2)
    roles, budgets = world.governance.roles, world.governance.budgets
    ann, bob, cy = (m.id for m in world.members[:3])
    terms = [await roles.assign(world.cid, m, Role.STEWARD) for m in (ann, bob, cy)]
    budget = await budgets.create(world.cid, "B", "2026-12", [EUR_FOOD])
    await budgets.consent(world.cid, budget.id, ann)
    await roles.end(world.cid, terms[0].id)
    await roles.end(world.cid, terms[1].id)
    with pytest.raises(NotASteward):
        await budgets.consent(world.cid, budget.id, bob)
    # Ann's consent no longer counts: Cy's alone is no quorum of two.
    assert (await budgets.consent(world.cid, budget.id, cy)).status is BudgetStatus.DRAFT


async def test_a_revision_supersedes_from_its_date_and_history_keeps_both(world: World) -> None:
    await world.stewards(0)
    budgets, ann = world.governance.budgets, world.members[0].id
    v1 = await budgets.create(world.cid, "B", "2026-Q4", [EUR_FOOD])
    with pytest.raises(BudgetNotDraft):
        await budgets.revise(world.cid, v1.id, lines=[EUR_FOOD], effective_from=date(2026, 11, 1))
    await budgets.consent(world.cid, v1.id, ann)
    with pytest.raises(errors.InvalidInput):
        await budgets.revise(world.cid, v1.id, lines=[EUR_FOOD], effective_from=date(2027, 1, 1))
    bigger = BudgetLine("Expenses:Food", "EUR", 12_000)
    v2 = await budgets.revise(world.cid, v1.id, lines=[bigger], effective_from=date(2026, 11, 15))
    assert (v2.version, v2.supersedes, v2.status) == (2, v1.id, BudgetStatus.DRAFT)
    rival = await budgets.revise(
        world.cid, v1.id, lines=[EUR_FOOD], effective_from=date(2026, 12, 1)
    )
    assert (await budgets.get(world.cid, v1.id)).status is BudgetStatus.ADOPTED
    await budgets.consent(world.cid, v2.id, ann)
    old = await budgets.get(world.cid, v1.id)
    assert (old.status, old.effective_until, old.lines) == (
        BudgetStatus.SUPERSEDED,
        date(2026, 11, 14),
        (EUR_FOOD,),
    )
    with pytest.raises(BudgetSuperseded):
        await budgets.consent(world.cid, rival.id, ann)
    with pytest.raises(BudgetSuperseded):
        await budgets.revise(world.cid, v1.id, lines=[EUR_FOOD], effective_from=date(2026, 12, 1))
    assert [b.id for b in await budgets.list_budgets(world.cid)] == [v1.id, v2.id, rival.id]


async def test_budget_vs_actual_on_a_small_fixed_ledger(world: World) -> None:
    budgets = world.governance.budgets
    budget = await budgets.create(world.cid, "B", "2026-11", [EUR_FOOD, EUR_FARM])
    day = date(2026, 11, 10)
    await world.move("Expenses:Food", "Assets:Bank", 3_000, day)
    await world.move("Expenses:Food:Bread", "Assets:Bank", 1_500, day)
    await world.move("Assets:Bank", "Expenses:Food", 200, day)  # a refund
    await world.move("Expenses:Foodstuff", "Assets:Bank", 999, day)  # another group
    await world.move("Expenses:Food", "Assets:Bank", 5_000, date(2026, 10, 31))  # before
    await world.move("Expenses:Food", "Assets:Bank", 700, day, pending=True)
    await world.move("Assets:Bank", "Income:Farm", 20_000, date(2026, 11, 30))
    report = await budgets.vs_actual(world.cid, budget.id)
    food, farm = report.lines
    assert (food.planned, food.actual, food.pending, food.variance, food.used) == (
        10_000,
        4_300,
        700,
        5_700,
        Decimal("0.4300"),
    )
    assert (farm.actual, farm.pending, farm.variance, farm.used) == (
        20_000,
        0,
        30_000,
        Decimal("0.4000"),
    )


async def test_a_budget_line_needs_a_known_commodity(world: World) -> None:
    with pytest.raises(errors.CommodityNotFound):
        await world.governance.budgets.create(
            world.cid, "B", "2026", [BudgetLine("Expenses:Food", "USD", 1)]
        )
    for period in ("2026-13", "0000-Q1", "0000-01", "0000", "26"):
        with pytest.raises(errors.InvalidInput):
            await world.governance.budgets.create(world.cid, "B", period, [EUR_FOOD])


# Emergency fund ------------------------------------------------------------------------------


async def _funded(world: World, cents: int = 100_000) -> None:
    await world.configure(approvals_required=2)
    await world.move("Assets:EmergencyFund", "Assets:Bank", cents, date(2026, 11, 1))
    await world.stewards(0, 1, 2)


async def test_two_distinct_stewards_post_a_request_the_requester_never(world: World) -> None:
    await _funded(world)
    fund, (ann, bob, cy, dee) = world.governance.fund, (m.id for m in world.members[:4])
    repairs = world.accounts["Expenses:Repairs"].id
    request = await fund.request(
        world.cid, payee_account_id=repairs, amount=30_000, reason="Roof", requested_by=ann
    )
    assert request.status is DisbursementStatus.PENDING
    entry = await world.ledger.get_entry(world.cid, request.id)
    assert (entry.status, entry.kind) == (EntryStatus.PENDING, "disbursement")
    with pytest.raises(SelfApproval):
        await fund.approve(world.cid, request.id, ann)
    with pytest.raises(NotASteward):
        await fund.approve(world.cid, request.id, dee)
    once = await fund.approve(world.cid, request.id, bob, "yes")
    twice = await fund.approve(world.cid, request.id, bob, "yes again")
    assert once.approvals == twice.approvals == (bob,)
    assert twice.status is DisbursementStatus.PENDING
    done = await fund.approve(world.cid, request.id, cy)
    assert (done.status, done.approvals) == (DisbursementStatus.APPROVED, (bob, cy))
    assert [s.action for s in done.steps] == [
        StepAction.REQUEST,
        StepAction.APPROVE,
        StepAction.APPROVE,
        StepAction.POST,
    ]
    assert (await world.ledger.get_entry(world.cid, request.id)).status is EntryStatus.POSTED
    status = await fund.status(world.cid)
    assert (status.posted, status.available) == (70_000, 70_000)
    await world.stewards(3)
    with pytest.raises(DisbursementNotPending):
        await fund.approve(world.cid, request.id, dee, "late")


async def test_requests_never_promise_more_than_the_fund_holds(world: World) -> None:
    await _funded(world, 100_000)
    fund, repairs = world.governance.fund, world.accounts["Expenses:Repairs"].id
    await fund.request(world.cid, payee_account_id=repairs, amount=60_000, reason="Roof")
    with pytest.raises(errors.LimitExceeded):
        await fund.request(world.cid, payee_account_id=repairs, amount=60_000, reason="Van")
    status = await fund.status(world.cid)
    assert (status.posted, status.pending_out, status.available) == (100_000, 60_000, 40_000)


async def test_a_rejection_voids_the_request(world: World) -> None:
    await _funded(world)
    fund, bob = world.governance.fund, world.members[1].id
    request = await fund.request(
        world.cid,
        payee_account_id=world.accounts["Expenses:Repairs"].id,
        amount=10_000,
        reason="Van",
    )
    rejected = await fund.reject(world.cid, request.id, bob, "not urgent")
    assert rejected.status is DisbursementStatus.REJECTED
    assert rejected.steps[-1].comment == "not urgent"
    assert (await world.ledger.get_entry(world.cid, request.id)).status is EntryStatus.VOIDED
    assert (await fund.status(world.cid)).available == 100_000


async def test_an_approval_after_the_deadline_expires_the_request(world: World) -> None:
    await _funded(world)
    fund, bob = world.governance.fund, world.members[1].id
    request = await fund.request(
        world.cid,
        payee_account_id=world.accounts["Expenses:Repairs"].id,
        amount=10_000,
        reason="Van",
        deadline_at=world.clock.now + timedelta(days=1),
    )
    world.clock.advance(timedelta(days=1))
    key = IdempotencyKey("test", "late-approval")
    with pytest.raises(DisbursementNotPending, match="expired"):
        await fund.approve(world.cid, request.id, bob, idempotency_key=key)
    with pytest.raises(DisbursementNotPending, match="expired"):  # the replay says the same
        await fund.approve(world.cid, request.id, bob, idempotency_key=key)
    found = await fund.get(world.cid, request.id)
    assert (found.status, found.approvals) == (DisbursementStatus.EXPIRED, ())
    assert found.steps[-1].action is StepAction.EXPIRE
    assert (await world.ledger.get_entry(world.cid, request.id)).status is EntryStatus.VOIDED


async def test_expire_overdue_expires_each_request_once(world: World) -> None:
    await _funded(world)
    fund, repairs = world.governance.fund, world.accounts["Expenses:Repairs"].id
    for days in (1, 2, 5):
        await fund.request(
            world.cid,
            payee_account_id=repairs,
            amount=1_000,
            reason=f"in {days} days",
            deadline_at=world.clock.now + timedelta(days=days),
        )
    later = world.clock.now + timedelta(days=2)
    assert await fund.expire_overdue(world.cid, later) == 2
    assert await fund.expire_overdue(world.cid, later) == 0
    pending = await fund.list_requests(world.cid, status=DisbursementStatus.PENDING)
    assert [d.reason for d in pending] == ["in 5 days"]


async def test_a_governance_refusal_replays_with_its_code(world: World) -> None:
    await _funded(world)
    fund, ann = world.governance.fund, world.members[0].id
    request = await fund.request(
        world.cid,
        payee_account_id=world.accounts["Expenses:Repairs"].id,
        amount=1_000,
        reason="Tools",
        requested_by=ann,
    )
    key = IdempotencyKey("test", "self")
    for _ in range(2):
        with pytest.raises(SelfApproval):
            await fund.approve(world.cid, request.id, ann, idempotency_key=key)


async def test_without_a_fund_nothing_can_be_requested(world: World) -> None:
    with pytest.raises(FundNotConfigured):
        await world.governance.fund.request(
            world.cid,
            payee_account_id=world.accounts["Expenses:Repairs"].id,
            amount=1,
            reason="x",
        )


async def test_a_target_in_months_of_expenses(world: World) -> None:
    await world.configure(fund_target_months=2)
    for month in (8, 9, 10):
        await world.move("Expenses:Food", "Assets:Bank", 3_000 * month, date(2026, month, 3))
    await world.move("Expenses:Food", "Assets:Bank", 99_999, date(2026, 11, 3))  # this month
    await world.move("Assets:EmergencyFund", "Assets:Bank", 27_000, date(2026, 11, 1))
    status = await world.governance.fund.status(world.cid)
    # (24 000 + 27 000 + 30 000) / 3 months × 2 = 54 000
    assert (status.target, status.funded) == (54_000, Decimal("0.5000"))
    assert status.target_basis == "2 months of expenses"
