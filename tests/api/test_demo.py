"""The demo community is seeded once, balanced, and shown in people's units."""

from __future__ import annotations

from api.cli.serve import balance_lines
from api.demo.seed import MEMBERS, seed_demo
from ledger.books.service import Ledger, NewAccount
from ledger.kernel import errors
from ledger.kernel.model import HOURS, AccountType
from ledger.kernel.quantity import units_of


async def test_the_demo_is_seeded_once_and_balances(ledger: Ledger) -> None:
    try:
        existing = await ledger.get_community_by_slug("demo")
    except errors.CommunityNotFound:
        existing = None
    community, created = await seed_demo(ledger)
    assert created is (existing is None)
    again, created_again = await seed_demo(ledger)
    assert (again, created_again) == (community, False)
    assert len(await ledger.list_members(community.id, limit=100)) == len(MEMBERS)
    trial = await ledger.trial_balance(community.id)
    assert {c.commodity for c in trial.commodities} == {HOURS, "EUR"}
    assert all(c.total_debit == c.total_credit > 0 for c in trial.commodities)
    pending = [
        e for e in await ledger.list_entries(community.id, limit=500) if e.status == "pending"
    ]
    # Two exchanges wait for their receiver, one emergency-fund request for a second steward.
    assert sorted(e.kind for e in pending) == ["disbursement", "exchange", "exchange"]


async def test_the_demo_lists_its_balances_in_aligned_columns(ledger: Ledger) -> None:
    community, _ = await seed_demo(ledger)
    await ledger.open_account(
        community.id,
        NewAccount("Liabilities:Clearing", "Clearing with a community of a long name (HOURS)",
                   AccountType.LIABILITY, HOURS),
    )  # fmt: skip
    accounts = await ledger.list_accounts(community.id)
    lines = balance_lines(accounts, units_of(await ledger.list_commodities(community.id)))
    assert len(lines) == len(accounts)
    # However long a name or a balance, every balance ends, and "pending" starts, in one column.
    assert len({line.index("   pending ") for line in lines}) == 1, "\n".join(lines)
    assert any(line.startswith("  Clearing with a community of a long name") for line in lines)
