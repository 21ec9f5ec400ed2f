"""The exports of a generated ledger (thousands of entries in three commodities) read back by the
real tools — Beancount's loader, the ``hledger`` binary, Python's csv module — give our trial
balance to the unit, for the whole journal and for a date range. Runs on both engines."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from beancount import loader
from beancount.core import data
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.kernel.model import Entry, EntryStatus
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from reports.exports.journal import ExportFormat, JournalExports
from reports.exports.naming import commodity_name
from reports.queries.journal import DateRange
from tests.conftest import unique_slug
from tests.reports.generated import GeneratedLedger, generate, raw_balances

ENTRIES = 2_000
SEED = 20261124
HLEDGER = shutil.which("hledger") or "/usr/bin/hledger"
RANGE = DateRange(date(2025, 2, 10), date(2025, 4, 30))
SCALES = {"HOURS": 0, "EUR": 2, "EGGS": 0}

_generated: dict[str, GeneratedLedger] = {}


@pytest.fixture
async def generated(database_url: str, ledger: Ledger) -> GeneratedLedger:
    """One generated ledger per database, shared by this module's tests (it takes seconds)."""
    if database_url not in _generated:
        community = await ledger.create_community(unique_slug("x"), 'Exports "test" club')
        _generated[database_url] = await generate(ledger, community, ENTRIES, SEED)
    return _generated[database_url]


async def export(
    engine: AsyncEngine, made: GeneratedLedger, fmt: ExportFormat, dates: DateRange
) -> str:
    exports = JournalExports(SqlUnitOfWorkFactory(engine), connection_of)
    return "".join([chunk async for chunk in exports.stream(made.community.id, fmt, dates)])


async def expected(
    ledger: Ledger, made: GeneratedLedger, as_of: date | None
) -> dict[uuid.UUID, tuple[str, int]]:
    """Our trial balance: per account with a balance, its commodity and debits − credits."""
    trial = await ledger.trial_balance(made.community.id, as_of)
    return {k: v for k, v in raw_balances(trial).items() if v[1] != 0}


async def posted_entries(ledger: Ledger, made: GeneratedLedger) -> dict[uuid.UUID, Entry]:
    found: dict[uuid.UUID, Entry] = {}
    after = None
    while True:
        page = await ledger.list_entries(
            made.community.id, after=after, limit=1000, status=EntryStatus.POSTED
        )
        found |= {entry.id: entry for entry in page}
        if len(page) < 1000:
            return found
        after = page[-1].id


def names_by_id(text: str) -> dict[str, uuid.UUID]:
    """Export name → account id, from the Beancount ``open`` directives."""
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    return {e.account: uuid.UUID(e.meta["account-id"]) for e in entries if isinstance(e, data.Open)}


def smallest_units(number: Decimal, commodity: str) -> int:
    value = number.scaleb(SCALES[commodity])
    assert value == value.to_integral_value(), f"{number} {commodity} is not exact"
    return int(value)


def beancount_balances(text: str) -> dict[uuid.UUID, tuple[str, int]]:
    entries, errors, _ = loader.load_string(text)
    assert errors == [], errors[:3]
    names = names_by_id(text)
    currencies = {commodity_name(code): code for code in SCALES}
    sums: dict[uuid.UUID, tuple[str, int]] = {}
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        for posting in entry.postings:
            assert posting.units is not None and posting.units.number is not None
            code = currencies[posting.units.currency]
            account = names[posting.account]
            _, total = sums.get(account, (code, 0))
            sums[account] = (code, total + smallest_units(posting.units.number, code))
    return {k: v for k, v in sums.items() if v[1] != 0}


def hledger(path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HLEDGER, "-f", str(path), *arguments], capture_output=True, text=True, check=False
    )


def hledger_balances(path: Path, names: dict[str, uuid.UUID]) -> dict[uuid.UUID, tuple[str, int]]:
    done = hledger(path, "bal", "-O", "csv", "--layout", "bare", "-N")
    assert done.returncode == 0, done.stderr
    currencies = {commodity_name(code): code for code in SCALES}
    found = {}
    for row in csv.DictReader(io.StringIO(done.stdout)):
        code = currencies[row["commodity"]]
        amount = smallest_units(Decimal(row["balance"]), code)
        if amount:
            found[names[row["account"]]] = (code, amount)
    return found


def csv_balances(text: str) -> dict[uuid.UUID, tuple[str, int]]:
    sums: dict[uuid.UUID, int] = defaultdict(int)
    commodities: dict[uuid.UUID, str] = {}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        account = uuid.UUID(row["account_id"])
        amount = int(row["amount"])
        assert Decimal(row["amount_decimal"]).scaleb(SCALES[row["commodity"]]) == amount
        sums[account] += amount
        commodities[account] = row["commodity"]
    return {k: (commodities[k], v) for k, v in sums.items() if v != 0}


async def test_the_generated_ledger_is_rich_enough(generated: GeneratedLedger) -> None:
    assert generated.posted > 1_500 and generated.reversed > 20
    assert generated.pending > 10 and generated.voided > 10


@pytest.mark.parametrize("dates", [DateRange(), RANGE], ids=["whole", "range"])
async def test_beancount_loads_and_balances_equal_the_trial_balance(
    engine: AsyncEngine, ledger: Ledger, generated: GeneratedLedger, dates: DateRange
) -> None:
    text = await export(engine, generated, ExportFormat.BEANCOUNT, dates)
    want = await expected(ledger, generated, dates.end)
    assert len(want) > 10
    assert beancount_balances(text) == want
    # The closing assertions are checked by the loader: a wrong one is an error.
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    assert " balance " in last
    number = last.split()[-2]
    tampered = text.replace(last, last.replace(f" {number} ", f" {Decimal(number) + 1} "))
    assert loader.load_string(tampered)[1] != []


async def test_beancount_keeps_ids_descriptions_metadata_and_reversals(
    engine: AsyncEngine, ledger: Ledger, generated: GeneratedLedger
) -> None:
    text = await export(engine, generated, ExportFormat.BEANCOUNT, DateRange())
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    ours = await posted_entries(ledger, generated)
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    assert len(transactions) == len(ours) == generated.posted + generated.reversed
    for transaction in transactions:
        entry = ours[uuid.UUID(transaction.meta["entry-id"])]
        assert transaction.narration == entry.description
        assert transaction.date == entry.effective_date
        assert transaction.meta["kind"] == entry.kind
        assert msgspec.json.decode(transaction.meta.get("metadata", "{}")) == entry.metadata
        reverses = transaction.meta.get("reverses")
        assert reverses == (None if entry.reverses is None else str(entry.reverses))
    days = [(t.date, t.meta["entry-id"]) for t in transactions]
    assert days == sorted(days)


@pytest.mark.parametrize("dates", [DateRange(), RANGE], ids=["whole", "range"])
async def test_hledger_checks_and_balances_equal_the_trial_balance(
    engine: AsyncEngine,
    ledger: Ledger,
    generated: GeneratedLedger,
    dates: DateRange,
    tmp_path: Path,
) -> None:
    names = names_by_id(await export(engine, generated, ExportFormat.BEANCOUNT, dates))
    text = await export(engine, generated, ExportFormat.HLEDGER, dates)
    path = tmp_path / "journal.hledger"
    path.write_text(text, encoding="utf-8")
    done = hledger(path, "check", "-s", "ordereddates")
    assert done.returncode == 0, done.stderr
    assert hledger_balances(path, names) == await expected(ledger, generated, dates.end)
    # hledger really checks the closing assertions: a wrong one fails the check.
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    assert " = " in last
    path.write_text(text.replace(last, last.rsplit(" = ", 1)[0] + " = 1 " + last.split()[-1]))
    assert hledger(path, "check").returncode != 0


async def test_hledger_keeps_ids_as_codes_and_descriptions(
    engine: AsyncEngine, ledger: Ledger, generated: GeneratedLedger, tmp_path: Path
) -> None:
    path = tmp_path / "journal.hledger"
    path.write_text(await export(engine, generated, ExportFormat.HLEDGER, DateRange()))
    done = hledger(path, "reg", "-O", "csv")
    assert done.returncode == 0, done.stderr
    ours = await posted_entries(ledger, generated)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    codes = {row["code"] for row in rows} - {""}
    assert codes == {str(entry_id) for entry_id in ours}
    plain = [e for e in ours.values() if e.description == "Fixed the fence"]
    assert plain
    for row in rows:
        if row["code"] == str(plain[0].id):
            assert row["description"] == "Fixed the fence"


@pytest.mark.parametrize("dates", [DateRange(), RANGE], ids=["whole", "range"])
async def test_csv_sums_equal_the_trial_balance(
    engine: AsyncEngine, ledger: Ledger, generated: GeneratedLedger, dates: DateRange
) -> None:
    text = await export(engine, generated, ExportFormat.CSV, dates)
    assert csv_balances(text) == await expected(ledger, generated, dates.end)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    postings = [row for row in rows if row["entry_id"]]
    if dates.start is not None and dates.end is not None:
        assert all(dates.start.isoformat() <= r["date"] <= dates.end.isoformat() for r in postings)
        assert any(row["kind"] == "opening_balance" for row in rows)
    # No text cell would run as a formula; the awkward description is kept behind a quote.
    text_columns = ("description", "kind", "account_code", "account_name")
    assert not any(row[c].startswith(("=", "+", "-", "@")) for row in rows for c in text_columns)
    assert any(row["description"] == "'=SUM(A1:A9)" for row in rows)
