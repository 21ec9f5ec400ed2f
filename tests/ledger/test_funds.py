"""Restricted funds: spending tagged to a fund never exceeds what it holds, also under
concurrency and whatever path the spending takes."""

from __future__ import annotations

import asyncio

import pytest

from ledger.books.service import Ledger
from ledger.economy.errors import FundNotFound
from ledger.economy.funds import FUND_INCOME_KIND, FUND_SPEND_KIND, FundMovement, FundView
from ledger.economy.service import Economy
from ledger.kernel import errors
from ledger.kernel.model import Community, IdempotencyKey, NewEntry, PostingSpec, new_id
from tests.ledger.economy_fixtures import account, clock, coop, economy

__all__ = ["clock", "coop", "economy"]


async def _greenhouse(ledger: Ledger, economy: Economy, coop: Community) -> FundView:
    bank = await account(ledger, coop, "Assets:Bank")
    return await economy.funds.create(
        coop.id, name="Greenhouse grant", code="Greenhouse", held_in_account_id=bank.id,
        purpose="The new greenhouse, from the regional farming grant",
    )  # fmt: skip


async def _fund_with(ledger: Ledger, economy: Economy, coop: Community, amount: int) -> FundView:
    fund = await _greenhouse(ledger, economy, coop)
    grants = await account(ledger, coop, "Income:Grants")
    await economy.funds.receive(coop.id, fund.fund.id, FundMovement(grants.id, amount, "Grant"))
    return fund


async def test_a_fund_is_a_floored_sub_account_of_where_the_money_sits(
    ledger: Ledger, economy: Economy, coop: Community
) -> None:
    fund = await _greenhouse(ledger, economy, coop)
    assert fund.account_code == "Assets:Bank:Greenhouse"
    held = await ledger.get_account(coop.id, fund.fund.account_id)
    assert (held.balance_min, held.commodity) == (0, "EUR")
    assert fund.balance.posted == 0
    assert await economy.funds.list_funds(coop.id) == [fund]
    with pytest.raises(FundNotFound):
        await economy.funds.get(coop.id, new_id())
    with pytest.raises(errors.AccountCodeExists):
        await _greenhouse(ledger, economy, coop)
    expense = await account(ledger, coop, "Expenses:Food")
    with pytest.raises(errors.InvalidInput):
        await economy.funds.create(coop.id, name="X", code="Food", held_in_account_id=expense.id)


async def test_spending_cannot_exceed_what_the_fund_holds(
    ledger: Ledger, economy: Economy, coop: Community
) -> None:
    fund = await _fund_with(ledger, economy, coop, 100_000)
    tools = await account(ledger, coop, "Expenses:Tools")
    spent = await economy.funds.spend(
        coop.id, fund.fund.id, FundMovement(tools.id, 60_000, "Glass panes")
    )
    assert spent.kind == FUND_SPEND_KIND and spent.metadata == {"fund_id": str(fund.fund.id)}
    with pytest.raises(errors.LimitExceeded, match="Greenhouse grant") as refused:
        await economy.funds.spend(coop.id, fund.fund.id, FundMovement(tools.id, 40_001, "More"))
    # In euros with their decimals, never cents read as a count.
    assert "holds less than EUR 400.01" in refused.value.detail
    assert "would fall to EUR \N{MINUS SIGN}0.01" in refused.value.detail
    # Any other path that takes money out of the fund meets the same floor.
    with pytest.raises(errors.LimitExceeded):
        await ledger.post_entry(
            coop.id,
            NewEntry(
                postings=(PostingSpec(tools.id, 40_001), PostingSpec(fund.fund.account_id, -40_001))
            ),
        )
    # A pending spend reserves: what is left is what may still be spent.
    await ledger.post_entry(
        coop.id,
        NewEntry(
            postings=(PostingSpec(tools.id, 30_000), PostingSpec(fund.fund.account_id, -30_000)),
            pending=True,
        ),
    )
    with pytest.raises(errors.LimitExceeded):
        await economy.funds.spend(coop.id, fund.fund.id, FundMovement(tools.id, 10_001, "Too"))
    await economy.funds.spend(coop.id, fund.fund.id, FundMovement(tools.id, 10_000, "Exact"))
    balance = (await economy.funds.get(coop.id, fund.fund.id)).balance
    assert (balance.posted, balance.pending, balance.available) == (30_000, -30_000, 0)
    grants = await account(ledger, coop, "Income:Grants")
    assert (await ledger.balance(coop.id, grants.id)).posted == 100_000
    assert fund.fund.id in {v.fund.id for v in await economy.funds.list_funds(coop.id)}


async def test_fund_income_is_tagged_and_idempotent(
    ledger: Ledger, economy: Economy, coop: Community
) -> None:
    fund = await _greenhouse(ledger, economy, coop)
    donations = await account(ledger, coop, "Income:Donations")
    key = IdempotencyKey("test", "grant-1")
    movement = FundMovement(donations.id, 5_000, "Crowd gift")
    first = await economy.funds.receive(coop.id, fund.fund.id, movement, key)
    again = await economy.funds.receive(coop.id, fund.fund.id, movement, key)
    assert first == again and first.kind == FUND_INCOME_KIND
    assert (await economy.funds.get(coop.id, fund.fund.id)).balance.posted == 5_000
    with pytest.raises(errors.IdempotencyConflict):
        await economy.funds.receive(
            coop.id, fund.fund.id, FundMovement(donations.id, 1, "Other"), key
        )
    with pytest.raises(errors.InvalidAmount):
        await economy.funds.spend(coop.id, fund.fund.id, FundMovement(donations.id, 0, "Zero"))


async def test_concurrent_spends_never_overdraw_a_fund(
    ledger: Ledger, economy: Economy, coop: Community
) -> None:
    fund = await _fund_with(ledger, economy, coop, 1_000)
    food = await account(ledger, coop, "Expenses:Food")

    async def spend() -> bool:
        try:
            await economy.funds.spend(coop.id, fund.fund.id, FundMovement(food.id, 300, "Seed"))
        except errors.LimitExceeded:
            return False
        return True

    # Twelve spends of 300 at once would take 3,600 out of 1,000: exactly three fit.
    outcomes = await asyncio.gather(*(spend() for _ in range(12)))
    assert sum(outcomes) == 3
    balance = (await economy.funds.get(coop.id, fund.fund.id)).balance
    assert (balance.posted, balance.available) == (100, 100)
    assert (await ledger.balance(coop.id, food.id)).posted == 900
