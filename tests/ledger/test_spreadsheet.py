"""Importing members and historical exchanges from CSV: every bad row is reported with its line
and reason before anything is written; a good import is written whole, a failing one not at
all."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.trail import AuditTrail
from ledger.books.service import Ledger
from ledger.imports.spreadsheet import RowError, SpreadsheetImport
from ledger.kernel import errors
from ledger.kernel.model import Community
from ledger.store import SqlUnitOfWorkFactory
from ledger.timebank.exchanges import Exchange, ExchangeStatus

MEMBERS = """name,hours_min,hours_max
Ann,-600,
Bob,,
"""
EXCHANGES = """date,provider,receiver,minutes,description,category
2026-01-05,Ann,Bob,90,Fixed the fence,repairs
2026-02-10,Zoe,Ann,30,Soup for the week,
"""


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


async def test_a_clean_sheet_is_imported_whole(
    ledger: Ledger, community: Community, engine: AsyncEngine
) -> None:
    zoe = await ledger.create_member(community.id, "Zoe")
    importer = SpreadsheetImport(ledger)
    plan = await importer.plan(
        community.id, ("members.csv", _lines(MEMBERS)), ("exchanges.csv", _lines(EXCHANGES))
    )
    assert plan.problems == []
    ticks: list[int] = []
    entries = await importer.run(community.id, plan, ticks.append)
    assert sum(ticks) == 4  # two members, two exchanges

    members = {m.name: m for m in await ledger.list_members(community.id)}
    assert set(members) == {"Zoe", "Ann", "Bob"}
    ann_account = await ledger.get_account(community.id, members["Ann"].hours_account_id)
    assert ann_account.balance_min == -600 and ann_account.balance_max is None
    # Ann gave Bob 90 minutes and got 30 from Zoe; balances are credit-normal.
    balances = {
        name: (await ledger.balance(community.id, m.hours_account_id)).posted
        for name, m in members.items()
    }
    assert balances == {"Ann": 60, "Bob": -90, "Zoe": 30}
    exchanges = [Exchange.of(entry) for entry in entries]
    assert [(x.effective_date, x.minutes, x.category) for x in exchanges] == [
        (date(2026, 1, 5), 90, "repairs"),
        (date(2026, 2, 10), 30, None),
    ]
    assert {x.status for x in exchanges} == {ExchangeStatus.CONFIRMED}
    assert exchanges[1].provider_member_id == zoe.id
    records = await AuditTrail(SqlUnitOfWorkFactory(engine)).records(community.id)
    assert [r.operation for r in records][-4:] == [
        "import_member",
        "import_member",
        "import_entry",
        "import_entry",
    ]


async def test_every_bad_row_is_reported_and_nothing_written(
    ledger: Ledger, community: Community
) -> None:
    await ledger.create_member(community.id, "Zoe")
    members = "name,hours_min\nAnn,-60\nZoe,\n,\nBob,lots\nAnn,\n"
    exchanges = (
        "date,provider,receiver,minutes,description\n"
        "2026-13-01,Ann,Zoe,30,Tea\n"
        "2026-01-02,Ann,Nobody,30,Tea\n"
        "2026-01-03,Ann,Zoe,0,Tea\n"
        "2026-01-04,Zoe,Zoe,30,Tea\n"
        "2026-01-05,Ann,Zoe,30,Tea,extra\n"
        "2026-01-06,Ann,Zoe,30,\n"
        "2026-01-07,Ann,Zoe,45,Fine\n"
    )
    plan = await SpreadsheetImport(ledger).plan(
        community.id, ("m.csv", _lines(members)), ("x.csv", _lines(exchanges))
    )
    found = [(p.source, p.line) for p in plan.problems]
    assert found == [
        ("m.csv", 3),  # Zoe exists
        ("m.csv", 4),  # no name
        ("m.csv", 5),  # hours_min not a number
        ("m.csv", 6),  # Ann twice
        ("x.csv", 2),  # month 13
        ("x.csv", 3),  # unknown member
        ("x.csv", 4),  # zero minutes
        ("x.csv", 5),  # to oneself
        ("x.csv", 6),  # a cell too many
        ("x.csv", 7),  # no description
    ]
    reasons = [p.reason for p in plan.problems]
    assert "exists" in reasons[0] and "lots" in reasons[2] and "YYYY-MM-DD" in reasons[4]
    assert "Nobody" in reasons[5] and "different" in reasons[7]
    assert str(plan.problems[0]) == f"m.csv line 3: {reasons[0]}"
    assert len(plan.entries) == 1  # the one good row, never written with the bad ones
    assert [m.name for m in await ledger.list_members(community.id)] == ["Zoe"]


async def test_a_rule_broken_while_writing_names_its_row_and_writes_nothing(
    ledger: Ledger, community: Community
) -> None:
    members = "name,hours_min\nAnn,\nBob,-60\n"
    exchanges = (
        "date,provider,receiver,minutes,description\n"
        "2026-01-05,Ann,Bob,45,Tea\n"
        "2026-01-06,Ann,Bob,45,More tea\n"  # Bob would be at -90, below his -60
    )
    importer = SpreadsheetImport(ledger)
    plan = await importer.plan(
        community.id, ("m.csv", _lines(members)), ("x.csv", _lines(exchanges))
    )
    assert plan.problems == []
    with pytest.raises(errors.InvalidInput, match=r"x\.csv line 3: .*") as raised:
        await importer.run(community.id, plan, lambda _: None)
    assert isinstance(raised.value.__cause__, errors.LimitExceeded)
    assert await ledger.list_members(community.id) == []
    assert await ledger.list_entries(community.id) == []


def test_a_row_error_reads_like_a_compiler_message() -> None:
    assert str(RowError("members.csv", 7, "no name")) == "members.csv line 7: no name"
