"""The demo shows governance: terms, an adopted budget, an emergency fund with one approved and
one pending request."""

from __future__ import annotations

from api.bootstrap import governance_of
from api.demo.seed import seed_demo
from ledger.books.service import Ledger
from ledger.governance.model import BudgetStatus, DisbursementStatus, Role
from ledger.governance.service import Governance
from ledger.kernel.model import Community


async def test_the_demo_shows_governance(ledger: Ledger) -> None:
    community, _ = await seed_demo(ledger)
    governance = governance_of(ledger)
    await _check(governance, community)


async def _check(governance: Governance, community: Community) -> None:
    current = await governance.roles.list_terms(community.id, current=True)
    assert sorted(t.role for t in current) == [Role.STEWARD] * 3 + [Role.TREASURER]
    history = await governance.roles.list_terms(community.id)
    assert len(history) == 5  # a past steward's term is kept
    budgets = await governance.budgets.list_budgets(community.id)
    assert [b.status for b in budgets] == [BudgetStatus.ADOPTED]
    actual = await governance.budgets.vs_actual(community.id, budgets[0].id)
    assert any(line.actual > 0 for line in actual.lines)
    requests = await governance.fund.list_requests(community.id)
    assert sorted(r.status for r in requests) == [
        DisbursementStatus.APPROVED,
        DisbursementStatus.PENDING,
    ]
    status = await governance.fund.status(community.id)
    assert status.pending_out == 8_000 and status.target is not None
