"""The demo community's governance: stewards and a treasurer with terms (one steward's term has
ended), an adopted budget for the current quarter, and an emergency fund with one approved
(posted) and one pending disbursement request."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from ledger.books.service import Ledger, NewAccount, utc_now
from ledger.governance.model import BudgetLine, GovernanceSettings, Role
from ledger.governance.service import Governance
from ledger.governance.units import Units
from ledger.kernel.model import Account, AccountType, Community
from ledger.store.governance import SqlGovernanceStore

TREASURER = "Ann Weaver"
STEWARDS = ("Bob Gardener", "Chloe Baker", "Dev Carpenter")
PAST_STEWARD = "Esther Cook"
BUDGET_LINES = (
    ("Expenses:Food", 100_000),
    ("Expenses:Housing", 120_000),
    ("Expenses:Tools", 25_000),
    ("Expenses:Repairs", 30_000),
    ("Income:Farm", 150_000),
    ("Income:Workshop", 60_000),
)


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


async def seed_governance(ledger: Ledger, community: Community) -> Governance:
    """Seeds the demo's governance on its members and euro accounts (run once, on creation)."""
    governance = Governance.over(Units(ledger.units, SqlGovernanceStore.of, utc_now), ledger)
    members = {m.name: m.id for m in await ledger.list_members(community.id, limit=100)}
    now = datetime.now(UTC)
    roles = governance.roles
    await roles.assign(
        community.id, members[TREASURER], Role.TREASURER, starts_at=now - timedelta(days=60)
    )
    for name in STEWARDS:
        await roles.assign(
            community.id, members[name], Role.STEWARD, starts_at=now - timedelta(days=90)
        )
    await roles.assign(
        community.id,
        members[PAST_STEWARD],
        Role.STEWARD,
        starts_at=now - timedelta(days=180),
        ends_at=now - timedelta(days=90),
    )
    fund = await _account(
        ledger, community, "Assets:EmergencyFund", "Emergency fund", AccountType.ASSET
    )
    repairs = await _account(ledger, community, "Expenses:Repairs", "Repairs", AccountType.EXPENSE)
    settings = GovernanceSettings(
        community.id, approvals_required=2, fund_account_id=fund.id, fund_target_months=3
    )
    await governance.fund.configure(community.id, settings)
    budget = await governance.budgets.create(
        community.id,
        "Running costs and sales",
        _quarter(now.date()),
        [BudgetLine(code, "EUR", cents) for code, cents in BUDGET_LINES],
    )
    for name in STEWARDS:
        await governance.budgets.consent(
            community.id, budget.id, members[name], "Agreed at the assembly"
        )
    fund_ops = governance.fund
    pump = await fund_ops.request(
        community.id,
        payee_account_id=repairs.id,
        amount=15_000,
        reason="Replace the greenhouse pump",
        requested_by=members[TREASURER],
    )
    for name in STEWARDS[:2]:
        await fund_ops.approve(community.id, pump.id, members[name], "Urgent before the frost")
    roof = await fund_ops.request(
        community.id,
        payee_account_id=repairs.id,
        amount=8_000,
        reason="Storm damage to the shed roof",
        requested_by=members[STEWARDS[2]],
    )
    await fund_ops.approve(community.id, roof.id, members[STEWARDS[0]], "Seen it: needs fixing")
    return governance


async def _account(
    ledger: Ledger, community: Community, code: str, name: str, kind: AccountType
) -> Account:
    """The account of ``code``, opened when the demo has none yet."""
    for account in await ledger.list_accounts(community.id):
        if account.code == code:
            return account
    return await ledger.open_account(community.id, NewAccount(code, name, kind, "EUR"))
