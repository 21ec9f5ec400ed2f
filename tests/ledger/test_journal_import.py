"""``ledger.imports.journal_import``: a journal file imports exactly, or not at all, and only
once."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.audit.trail import AuditTrail
from ledger.books.service import AccountChange, Ledger, NewAccount
from ledger.imports.journal_format import parse
from ledger.imports.journal_import import JournalImport, JournalRefused, JournalSummary, file_digest
from ledger.kernel.clock import utc_now
from ledger.kernel.model import AccountType, Community
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.journal_import import SqlJournalWriter

HEADER = "entry_id,date,description,kind,account_code,amount,metadata\n"


@dataclass
class World:
    ledger: Ledger
    community: Community
    importer: JournalImport
    accounts: dict[str, uuid.UUID]


@pytest.fixture
async def world(engine: AsyncEngine, ledger: Ledger, community: Community) -> World:
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    ids = {}
    for code, kind, commodity, floor in (
        ("ann", AccountType.LIABILITY, "HOURS", -120),
        ("bob", AccountType.LIABILITY, "HOURS", -120),
        ("cash", AccountType.ASSET, "EUR", None),
        ("dues", AccountType.INCOME, "EUR", None),
        ("old", AccountType.LIABILITY, "HOURS", None),
        ("till", AccountType.ASSET, "EUR", 0),
    ):
        account = await ledger.open_account(
            community.id, NewAccount(code, code.title(), kind, commodity, balance_min=floor)
        )
        ids[code] = account.id
    await ledger.update_account(community.id, ids["old"], AccountChange(closed=True))
    importer = JournalImport(SqlUnitOfWorkFactory(engine), SqlJournalWriter.of, utc_now)
    return World(ledger, community, importer, ids)


async def _import(world: World, name: str, text: str) -> JournalSummary:
    data = text.encode()
    return await world.importer.run(world.community.id, parse(name, data), file_digest(data))


async def _refused(world: World, text: str, name: str = "history.csv") -> list[str]:
    before = await _state(world)
    with pytest.raises(JournalRefused) as refused:
        await _import(world, name, text)
    assert await _state(world) == before, "a refused file wrote something"
    return [str(problem) for problem in refused.value.problems]


async def _state(world: World) -> tuple[object, ...]:
    entries = await world.ledger.list_entries(world.community.id, limit=1000)
    accounts = await world.ledger.list_accounts(world.community.id)
    audit = await AuditTrail(world.ledger.units).records(world.community.id, limit=1000)
    return len(entries), tuple(a.counters for a in accounts), len(audit)


GOOD = (
    HEADER + '1,2024-01-05,Garden work,exchange,ann,60,"{""category"": ""garden""}"\n'
    "1,,,,bob,-60,\n"
    "2,2024-01-06,Dues,,cash,1500,\n"
    "2,2024-01-06,Dues,,dues,-1000,\n"
    "2,,,,dues,-500,\n"
    "3,2024-01-07,Repair,exchange,bob,90,\n"
    "3,,,,ann,-90,\n"
)


async def test_a_good_file_imports_exactly(world: World) -> None:
    summary = await _import(world, "history.csv", GOOD)
    assert (summary.entries, summary.postings, summary.already_imported) == (3, 7, False)
    sums: dict[str, int] = defaultdict(int)
    for line in GOOD.splitlines()[1:]:
        cells = line.split(",")
        sums[cells[4]] += int(cells[5])
    accounts = {a.code: a for a in await world.ledger.list_accounts(world.community.id)}
    for code, total in sums.items():
        counters = accounts[code].counters
        assert counters.debits_posted - counters.credits_posted == total, code
    # The maintained counters agree with the postings summed as of a date.
    now = await world.ledger.trial_balance(world.community.id)
    summed = await world.ledger.trial_balance(world.community.id, date(2100, 1, 1))
    assert now.commodities == summed.commodities
    for commodity in now.commodities:
        assert commodity.total_debit == commodity.total_credit
    found = await world.ledger.list_entries(world.community.id, limit=10)
    entries = sorted(found, key=lambda entry: entry.effective_date)
    assert [e.kind for e in entries] == ["exchange", "import", "exchange"]
    assert entries[0].metadata == {"category": "garden"}
    assert entries[0].effective_date == date(2024, 1, 5)
    records = await AuditTrail(world.ledger.units).records(world.community.id, limit=100)
    assert records[-1].operation == "import_journal"
    assert records[-1].idempotency_key == file_digest(GOOD.encode())
    assert records[-1].result_ids == ("entries=3", "postings=7")
    assert (await AuditTrail(world.ledger.units).verify(world.community.id)).broken is None


async def test_json_lines_import_too(world: World) -> None:
    lines = [
        {"date": "2024-02-01", "description": "Lesson", "postings": [
            {"account_code": "ann", "amount": 30, "commodity": "HOURS"},
            {"account_code": "bob", "amount": -30},
        ]},
    ]  # fmt: skip
    summary = await _import(world, "h.jsonl", "".join(json.dumps(x) + "\n" for x in lines))
    assert (summary.entries, summary.postings) == (1, 2)
    ann = await world.ledger.balance(world.community.id, world.accounts["ann"])
    assert ann.posted == -30


async def test_re_running_the_same_file_imports_nothing(world: World) -> None:
    await _import(world, "history.csv", GOOD)
    before = await _state(world)
    again = await _import(world, "renamed.csv", GOOD)
    assert again.already_imported and (again.entries, again.postings) == (3, 7)
    assert await _state(world) == before


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ("9,2024-13-01,Bad date,,ann,10\n9,,,,bob,-10\n", "is not YYYY-MM-DD"),
        ("9,2024-01-01,One leg,,ann,10\n", "at least 2 postings"),
        ("9,2024-01-01,Float,,ann,1.5\n9,,,,bob,-1.5\n", "is not a whole number"),
        ("9,2024-01-01,Zero,,ann,0\n9,,,,bob,0\n", "non-zero integer"),
        ("9,2024-01-01,Lopsided,,ann,10\n9,,,,bob,-9\n", "do not sum to zero"),
        ("9,2024-01-01,Mixed,,ann,10\n9,,,,cash,-10\n", "hold different commodities"),
        ("9,2024-01-01,Ghost,,ann,10\n9,,,,nobody,-10\n", "no account has the code 'nobody'"),
        ("9,2024-01-01,Closed,,ann,10\n9,,,,old,-10\n", "is closed"),
        ("9,2024-01-01,Meta,,ann,10,[1]\n9,,,,bob,-10,\n", "metadata must be a JSON object"),
        ("9,2024-01-01,Split,,ann,10\n9,2024-01-02,,,bob,-10\n", "date differs"),
        ("9,2024-01-01,Floor,,bob,200\n9,,,,ann,-200\n", "below its limit of \N{MINUS SIGN}2 h"),
    ],
)
async def test_each_kind_of_bad_row_refuses_the_whole_file(
    world: World, rows: str, reason: str
) -> None:
    good = "1,2024-01-01,Fine,,ann,5\n1,,,,bob,-5\n"
    problems = await _refused(world, HEADER + good + rows)
    assert len(problems) == 1 and reason in problems[0], problems
    assert problems[0].startswith("history.csv line 4:")


async def test_a_wrong_commodity_and_every_bad_line_are_named(world: World) -> None:
    text = (
        "entry_id,date,description,account_code,amount,commodity\n"
        "1,2024-01-01,A,ann,5,EUR\n1,2024-01-01,A,bob,-5,HOURS\n"
        "2,nope,B,ann,5,\n2,,,bob,-5,\n"
    )
    problems = await _refused(world, text)
    assert problems == [
        "history.csv line 2: account 'ann' holds HOURS, not EUR",
        "history.csv line 4: date 'nope' is not YYYY-MM-DD",
    ]
    assert "holds no entry" in (await _refused(world, HEADER))[0]
    assert "lacks entry_id" in (await _refused(world, "date,amount\n2024-01-01,5\n"))[0]
    jsonl = '{"date": "2024-01-01", "postings": [{"account_code": "ann", "amount": true}]}\n'
    assert "line 1" in (await _refused(world, jsonl, "h.jsonl"))[0]


async def test_refusals_word_money_in_its_unit_and_keep_the_integers(world: World) -> None:
    text = HEADER + (
        "1,2024-01-01,Lopsided,,cash,1250\n1,,,,dues,-1200\n"
        "2,2024-01-02,Overdrawn,,till,-1250\n2,,,,dues,1250\n"
    )
    data = text.encode()
    with pytest.raises(JournalRefused) as refused:
        await world.importer.run(world.community.id, parse("h.csv", data), file_digest(data))
    lopsided, overdrawn = refused.value.problems
    # EUR 0.50, not "50 EUR": amounts as people read them, the integers for programs.
    assert lopsided.reason.endswith("debits exceed credits by EUR 0.50"), lopsided.reason
    assert lopsided.members == {"imbalance": {"EUR": 50}}
    assert overdrawn.reason.startswith(
        "Till would fall to EUR \N{MINUS SIGN}12.50, counting pending entries, below its limit "
        "of EUR 0.00"
    ), overdrawn.reason
    assert overdrawn.members == {
        "account_id": str(world.accounts["till"]),
        "commodity": "EUR",
        "balance_after": -1250,
        "balance_min": 0,
    }


async def test_a_limit_breached_only_in_the_middle_of_the_history_is_refused(
    world: World,
) -> None:
    # In file order ann would never pass -120; in date order she reaches -150 on 3 March
    # before being paid back on 4 March, and ends at -30.
    text = HEADER + (
        "pay,2024-03-04,Paid back,,ann,-120\npay,,,,bob,120\n"
        "work,2024-03-03,Big job,,ann,150\nwork,,,,bob,-150\n"
    )
    problems = await _refused(world, text)
    assert len(problems) == 1 and problems[0].startswith("history.csv line 4:"), problems
    assert "'ann' on 2024-03-03" in problems[0]


async def test_the_replay_starts_from_the_current_counters(world: World) -> None:
    await _import(world, "first.csv", HEADER + "1,2024-01-01,A,,ann,100\n1,,,,bob,-100\n")
    problems = await _refused(world, HEADER + "1,2023-01-01,B,,ann,30\n1,,,,bob,-30\n")
    assert "below its limit" in problems[0]
