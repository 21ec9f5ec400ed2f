"""The demo community's cooperative economy: the co-op chart, a farm and a workshop business, a
greenhouse grant held as a restricted fund, trades in kind (eggs, honey, hours) and monthly dues
written by a schedule."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date, timedelta

from ledger.books.service import Ledger
from ledger.economy.barter import BarterItem, BarterSide
from ledger.economy.funds import FundMovement
from ledger.economy.schedules import Frequency, NewSchedule, add_months
from ledger.economy.service import Economy
from ledger.kernel import errors
from ledger.kernel.model import HOURS, Community, Member, NewEntry, PostingSpec

DEMO_DAYS = 90


async def seed_economy(
    ledger: Ledger, economy: Economy, community: Community, members: list[Member]
) -> None:
    """Seeds the demo's economy into ``community`` (which keeps its books in EUR)."""
    await economy.charts.apply(community.id, "coop", "EUR")
    code = {a.code: a.id for a in await ledger.list_accounts(community.id)}
    start = date.today() - timedelta(days=DEMO_DAYS)
    for month in range(3):  # the retreats line beside the farm and the workshop
        day = start + timedelta(days=30 * month + 20)
        postings = (
            PostingSpec(code["Assets:Bank"], 35_000),
            PostingSpec(code["Income:Retreats"], -35_000),
        )
        await ledger.post_entry(
            community.id, NewEntry(postings, "Weekend retreat", effective_date=day)
        )
    await _grant_fund(economy, community, code, start)
    await _barters(ledger, economy, community, members, start)
    first = add_months(start.replace(day=1), 1)
    dues = NewSchedule(
        "Monthly member dues",
        code["Assets:Bank"],
        code["Income:Dues"],
        12_000,
        Frequency.MONTHLY,
        first,
    )
    await economy.schedules.create(community.id, dues)
    await economy.materialise_due(community.id, date.today())


async def _grant_fund(
    economy: Economy, community: Community, code: dict[str, uuid.UUID], start: date
) -> None:
    fund = await economy.funds.create(
        community.id,
        name="Greenhouse grant",
        code="Greenhouse",
        held_in_account_id=code["Assets:Bank"],
        purpose="The regional farming grant, for the new greenhouse only",
    )
    movements = (
        (False, "Income:Grants", 300_000, "Regional farming grant, first tranche", 10),
        (True, "Expenses:Tools", 120_000, "Glass panes and frames", 40),
        (True, "Expenses:FarmSupplies", 35_000, "Seedlings for the greenhouse", 70),
    )
    for spend, account, cents, what, days in movements:
        movement = FundMovement(code[account], cents, what, start + timedelta(days=days))
        if spend:
            await economy.funds.spend(community.id, fund.fund.id, movement)
        else:
            await economy.funds.receive(community.id, fund.fund.id, movement)


async def _barters(
    ledger: Ledger, economy: Economy, community: Community, members: list[Member], start: date
) -> None:
    for goods, name in (("EGGS", "Eggs"), ("HONEY", "Jars of honey")):
        with contextlib.suppress(errors.CommodityExists):
            await ledger.add_commodity(community.id, goods, name, 0)
    by_name = {m.name.split()[0]: m.id for m in members}
    trades = (
        (
            "Bob",
            ("EGGS", 24, "two dozen eggs"),
            "Esther",
            (HOURS, 60, "an hour of batch cooking"),
            15,
        ),
        ("Lena", ("HONEY", 4, "four jars of honey"), "Ann", (HOURS, 90, "mending two coats"), 35),
        (
            "Bob",
            ("EGGS", 30, "thirty eggs for the kitchen"),
            None,
            (HOURS, 45, "kitchen credit"),
            50,
        ),
        (None, ("EGGS", 12, "a dozen eggs"), "Dev", (HOURS, 120, "fixing the henhouse door"), 60),
    )
    for giver, gives, taker, takes, days in trades:
        sides = (
            BarterSide(None if giver is None else by_name[giver], (BarterItem(*gives),)),
            BarterSide(None if taker is None else by_name[taker], (BarterItem(*takes),)),
        )
        await economy.barters.record(
            community.id,
            sides,
            f"{gives[2]} for {takes[2]}",
            effective_date=start + timedelta(days=days),
        )
