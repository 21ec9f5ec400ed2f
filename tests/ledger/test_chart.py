"""Starter charts of accounts: the co-op template's contents, its designations, idempotency."""

from __future__ import annotations

import asyncio

import pytest

from ledger.books.service import Ledger, NewAccount
from ledger.economy.chart import COOP, Designation, group_of, in_group
from ledger.economy.service import Economy
from ledger.kernel import errors
from ledger.kernel.model import HOURS, AccountType, Community
from tests.conftest import unique_slug
from tests.ledger.economy_fixtures import account, clock, coop, economy

__all__ = ["clock", "coop", "economy"]


async def test_a_community_born_with_the_coop_chart(
    ledger: Ledger, economy: Economy, coop: Community
) -> None:
    accounts = {a.code: a for a in await ledger.list_accounts(coop.id)}
    assert set(accounts) == {spec.code for spec in COOP}
    required = {
        *("Income:Farm", "Income:Workshop", "Income:Retreats", "Income:Grants"),
        *("Income:Donations", "Income:Crowdfunding", "Expenses:Food", "Assets:EmergencyFund"),
        *("Equity:HoursPool", "Assets:Cash", "Assets:Bank"),
    }
    assert required <= set(accounts)
    assert accounts["Equity:HoursPool"].commodity == HOURS
    assert accounts["Assets:Bank"].commodity == "EUR"
    assert accounts["Assets:EmergencyFund"].balance_min == 0
    assert accounts["Income:Farm"].type is AccountType.INCOME
    eur = [c for c in await ledger.list_commodities(coop.id) if c.code == "EUR"]
    assert [(c.name, c.scale) for c in eur] == [("Euro", 2)]
    designated = await economy.charts.designations(coop.id)
    by_code = {accounts[code].id: code for code in accounts}
    named = {by_code[account_id]: d for account_id, d in designated.items()}
    assert named["Income:Farm"] == Designation.BUSINESS_LINE
    assert named["Income:Grants"] == Designation.EXTERNAL_SUPPORT
    assert named["Expenses:Food"] == Designation.ESSENTIAL_EXPENSE
    assert named["Expenses:Tools"] == Designation.OTHER_EXPENSE
    assert named["Assets:EmergencyFund"] == Designation.EMERGENCY_FUND
    assert named["Equity:HoursPool"] == Designation.HOURS_POOL
    assert "Liabilities:Payables" not in named


async def test_applying_the_template_again_opens_nothing(
    ledger: Ledger, economy: Economy, coop: Community
) -> None:
    before = await ledger.list_accounts(coop.id)
    applied = await economy.charts.apply(coop.id, "coop")
    assert applied.opened == ()
    assert set(applied.kept) == {spec.code for spec in COOP}
    assert await ledger.list_accounts(coop.id) == before


async def test_a_template_applied_later_keeps_what_exists(
    ledger: Ledger, economy: Economy, community: Community
) -> None:
    # The treasurer already keeps the bank in HOURS (odd, but theirs): it stays, undesignated.
    await ledger.open_account(
        community.id, NewAccount("Assets:Bank", "Our bank", AccountType.ASSET, HOURS)
    )
    applied = await economy.charts.apply(community.id, "coop", "CHF")
    assert "Assets:Bank" in applied.kept and "Income:Farm" in applied.opened
    bank = await account(ledger, community, "Assets:Bank")
    assert (bank.name, bank.commodity) == ("Our bank", HOURS)
    assert bank.id not in await economy.charts.designations(community.id)
    farm = await account(ledger, community, "Income:Farm")
    assert farm.commodity == "CHF"
    again = await economy.charts.apply(community.id, "coop", "CHF")
    assert again.opened == ()


async def test_a_template_fails_whole(ledger: Ledger, economy: Economy, coop: Community) -> None:
    with pytest.raises(errors.InvalidInput):
        await economy.charts.create_community(unique_slug(), "X", template="kolkhoz")
    with pytest.raises(errors.InvalidInput):
        await economy.charts.apply(coop.id, "coop", "eur")
    with pytest.raises(errors.CommunityExists):
        await economy.charts.create_community(coop.slug, "Again", template="coop")
    assert len(await ledger.list_accounts(coop.id)) == len(COOP)


def test_groups_are_code_prefixes() -> None:
    assert group_of("Income:Farm:Eggs") == "Income:Farm"
    assert group_of("Income") == "Income"
    assert in_group("Income:Farm:Eggs", "Income:Farm")
    assert in_group("Income:Farm", "Income:Farm")
    assert not in_group("Income:Farmhouse", "Income:Farm")


async def test_concurrent_applications_open_each_account_once(
    ledger: Ledger, economy: Economy, community: Community
) -> None:
    applied = await asyncio.gather(*(economy.charts.apply(community.id, "coop") for _ in range(4)))
    codes = [a.code for a in await ledger.list_accounts(community.id)]
    assert sorted(codes) == sorted(spec.code for spec in COOP)
    assert sum(len(a.opened) for a in applied) == len(COOP)
    assert len(await economy.charts.designations(community.id)) == sum(
        spec.designation is not None for spec in COOP
    )
