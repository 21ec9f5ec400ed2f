"""The writers on their own: names, numbers, escaping and the text of one small journal, against
hand-written expectations. No database."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import uuid
from datetime import date
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data

from ledger.kernel.model import AccountType, EntryStatus
from reports.exports import beancount_writer, csv_writer, hledger_writer
from reports.exports.book import ExportClose, ExportHead
from reports.exports.naming import (
    account_name,
    account_names,
    commodity_name,
    decimal_text,
    name_part,
)
from reports.queries.journal import (
    DateRange,
    JournalAccount,
    JournalCommodity,
    JournalEntry,
    JournalPosting,
)

BEANCOUNT_ACCOUNT = re.compile(
    r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$"
)
ANN = uuid.UUID("01937a1e-0000-7000-8000-00000000a11e")
BANK = uuid.UUID("01937a1e-0000-7000-8000-0000000000b1")
FARM = uuid.UUID("01937a1e-0000-7000-8000-0000000000f1")
ANN_HOURS = uuid.UUID("01937a1e-0000-7000-8000-0000000000a1")
POOL = uuid.UUID("01937a1e-0000-7000-8000-0000000000c1")
ENTRY = uuid.UUID("01937a1e-0000-7000-8000-0000000000e1")


def account(
    code: str, kind: AccountType, commodity: str = "EUR", *, member: str | None = None
) -> JournalAccount:
    account_id = uuid.uuid4()
    member_id = uuid.uuid4() if member else None
    return JournalAccount(account_id, code, code, kind, commodity, member_id, member)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("bank", "Bank"),
        ("zoë's café", "Zoe-s-cafe"),
        ("  -rent  ", "Rent"),
        ("9 lives", "9-lives"),
        ("李雷", "X"),
        ("a;b\nc", "A-b-c"),
    ],
)
def test_name_parts_are_valid_for_both_tools(text: str, part: str) -> None:
    assert name_part(text) == part


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        ("Assets:Bank", AccountType.ASSET, "Assets:Bank"),
        ("assets:cash box", AccountType.ASSET, "Assets:Cash-box"),
        ("Income:Farm", AccountType.INCOME, "Income:Farm"),
        ("expense:seeds", AccountType.EXPENSE, "Expenses:Seeds"),
        ("bank", AccountType.ASSET, "Assets:Bank"),
        ("Assets:Loan", AccountType.LIABILITY, "Liabilities:Assets:Loan"),
        ("capital:reserve:2025", AccountType.EQUITY, "Equity:Capital:Reserve:2025"),
    ],
)
def test_an_account_type_decides_the_root(code: str, kind: AccountType, name: str) -> None:
    assert account_name(account(code, kind)) == name


def test_member_accounts_are_named_after_the_member_with_a_short_id() -> None:
    ann = account("member:x", AccountType.LIABILITY, "HOURS", member="Ann Weaver")
    assert ann.member_id is not None
    assert account_name(ann) == f"Liabilities:Members:Ann-Weaver-{ann.member_id.hex[-8:]}"


def test_names_are_unique_stable_and_valid() -> None:
    twins = [account("Assets:Bank", AccountType.ASSET), account("assets:bank", AccountType.ASSET)]
    members = [
        account("member:a", AccountType.LIABILITY, "HOURS", member=name)
        for name in ('Bob "B"', "=cmd()", "李雷", "")
    ]
    accounts = [*twins, *members]
    names = account_names(accounts)
    assert len(set(names.values())) == len(accounts)
    assert names[twins[0].id] == f"Assets:Bank-{twins[0].id.hex[-8:]}"
    assert account_names(reversed(accounts)) == names
    assert all(BEANCOUNT_ACCOUNT.match(name) for name in names.values()), names


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("EUR", "EUR"),
        ("HOURS", "HOURS.MIN"),
        ("EGG_BOX", "EGG_BOX"),
        ("X", "X.CL"),
        ("EGG_", "EGG_.CL"),
    ],
)
def test_commodity_names(code: str, name: str) -> None:
    assert commodity_name(code) == name


@pytest.mark.parametrize(
    ("amount", "scale", "text"),
    [
        (-1250, 2, "-12.50"),
        (5, 2, "0.05"),
        (-5, 2, "-0.05"),
        (0, 2, "0.00"),
        (90, 0, "90"),
        (7, 3, "0.007"),
        (2**53 - 1, 9, "9007199.254740991"),
    ],
)
def test_amounts_are_exact_decimals(amount: int, scale: int, text: str) -> None:
    assert decimal_text(amount, scale) == text


def test_beancount_strings_read_back_exactly() -> None:
    awkward = 'a "quote", a \\ backslash\nand a new line; \\" both'
    text = f"2025-01-01 note Assets:Bank {beancount_writer.quote(awkward)}\n"
    text = "2025-01-01 open Assets:Bank\n" + text
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    notes = [e for e in entries if isinstance(e, data.Note)]
    assert notes[0].comment == awkward


def test_hledger_descriptions_lose_comment_and_line_breaks() -> None:
    assert hledger_writer.description("a; b\r\nc ") == "a, b c"
    assert hledger_writer.symbol("EUR") == "EUR"
    assert hledger_writer.symbol("HOURS") == '"HOURS.MIN"'
    assert hledger_writer.symbol("EGG_BOX") == '"EGG_BOX"'


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_text_cells_that_look_like_formulas_are_quoted(start: str) -> None:
    assert csv_writer.cell(f"{start}SUM(A1)") == f"'{start}SUM(A1)"
    assert csv_writer.cell(f"x{start}") == f"x{start}"


def small_head(
    dates: DateRange | None = None, opening: dict[uuid.UUID, int] | None = None
) -> ExportHead:
    accounts = (
        JournalAccount(BANK, "Assets:Bank", "Bank", AccountType.ASSET, "EUR", None, None),
        JournalAccount(FARM, "Income:Farm", "=Farm", AccountType.INCOME, "EUR", None, None),
        JournalAccount(
            ANN_HOURS, "member:1", "Hours of Ann", AccountType.LIABILITY, "HOURS", ANN, "Ann"
        ),
        JournalAccount(POOL, "Equity:Pool", "Pool", AccountType.EQUITY, "HOURS", None, None),
    )
    return ExportHead(
        community="Garden",
        dates=dates or DateRange(),
        open_date=date(2025, 1, 1),
        commodities=(JournalCommodity("EUR", "Euro", 2), JournalCommodity("HOURS", "Hours", 0)),
        accounts=accounts,
        names=account_names(accounts),
        opening=opening or {},
    )


ONE_ENTRY = JournalEntry(
    id=ENTRY,
    effective_date=date(2025, 1, 5),
    status=EntryStatus.POSTED,
    kind="market",
    description='Eggs "fresh"; =1+1',
    metadata_json='{"stall":3}',
    reverses=POOL,
    postings=(
        JournalPosting(BANK, "EUR", 1250),
        JournalPosting(FARM, "EUR", -1250),
        JournalPosting(ANN_HOURS, "HOURS", -90),
        JournalPosting(POOL, "HOURS", 90),
    ),
)
ANN_NAME = f"Liabilities:Members:Ann-{ANN.hex[-8:]}"


def test_beancount_entry_text() -> None:
    writer = beancount_writer.BeancountWriter(small_head())
    assert writer.entry(ONE_ENTRY) == (
        '2025-01-05 * "Eggs \\"fresh\\"; =1+1"\n'
        f'  entry-id: "{ENTRY}"\n'
        '  kind: "market"\n'
        f'  reverses: "{POOL}"\n'
        '  metadata: "{\\"stall\\":3}"\n'
        "  Assets:Bank  12.50 EUR\n"
        "  Income:Farm  -12.50 EUR\n"
        f"  {ANN_NAME}  -90 HOURS.MIN\n"
        "  Equity:Pool  90 HOURS.MIN\n\n"
    )
    close = ExportClose(date(2025, 1, 31), {BANK: 1250, FARM: -1250, ANN_HOURS: -90, POOL: 90})
    footer = "".join(writer.footer(close))
    assert "2025-02-01 balance Assets:Bank  12.50 EUR\n" in footer
    assert f"2025-02-01 balance {ANN_NAME}  -90 HOURS.MIN\n" in footer
    whole = "".join([*writer.header(), writer.entry(ONE_ENTRY), footer])
    assert loader.load_string(whole)[1] == []


def test_hledger_entry_text() -> None:
    writer = hledger_writer.HledgerWriter(small_head())
    assert writer.entry(ONE_ENTRY) == (
        f'2025-01-05 * ({ENTRY}) Eggs "fresh", =1+1  ; kind:market, reverses:{POOL}\n'
        '    ; description: "Eggs \\"fresh\\"; =1+1"\n'
        '    ; metadata: {"stall":3}\n'
        "    Assets:Bank  12.50 EUR\n"
        "    Income:Farm  -12.50 EUR\n"
        f'    {ANN_NAME}  -90 "HOURS.MIN"\n'
        '    Equity:Pool  90 "HOURS.MIN"\n\n'
    )
    close = ExportClose(date(2025, 1, 31), {BANK: 1250})
    footer = "".join(writer.footer(close))
    assert footer.startswith("2025-01-31 * ")
    assert "    Assets:Bank  0.00 EUR = 12.50 EUR\n" in footer
    assert '    Equity:Pool  0 "HOURS.MIN" = 0 "HOURS.MIN"\n' in footer


def test_csv_rows_one_per_posting_with_exact_amounts() -> None:
    head = small_head(DateRange(start=date(2025, 1, 2)), opening={BANK: 500, FARM: -500})
    writer = csv_writer.CsvWriter(head)
    text = "".join(
        [
            *writer.header(),
            writer.entry(ONE_ENTRY),
            *writer.footer(ExportClose(date(2025, 1, 5), {})),
        ]
    )
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(csv_writer.COLUMNS)
    assert rows[1][:5] == ["", "2025-01-02", "posted", "opening_balance", "Opening balances"]
    assert rows[1][6:12] == [str(BANK), "Assets:Bank", "Bank", "EUR", "500", "5.00"]
    body = rows[3:]
    assert len(body) == 4
    assert body[1] == [
        str(ENTRY),
        "2025-01-05",
        "posted",
        "market",
        'Eggs "fresh"; =1+1',
        "1",
        str(FARM),
        "Income:Farm",
        "'=Farm",
        "EUR",
        "-1250",
        "-12.50",
        str(POOL),
        '{"stall":3}',
    ]
    assert body[2][9:12] == ["HOURS", "-90", "-90"]


def test_an_empty_journal_is_valid_for_both_tools(tmp_path: Path) -> None:
    head = ExportHead("Empty", DateRange(), date(2025, 1, 1), (), (), {})
    close = ExportClose(date(2025, 1, 1), {})
    bean = beancount_writer.BeancountWriter(head)
    assert loader.load_string("".join([*bean.header(), *bean.footer(close)]))[1] == []
    ledger = hledger_writer.HledgerWriter(head)
    path = tmp_path / "empty.hledger"
    path.write_text("".join([*ledger.header(), *ledger.footer(close)]))
    hledger = shutil.which("hledger") or "/usr/bin/hledger"
    done = subprocess.run(
        [hledger, "-f", str(path), "check", "-s", "ordereddates"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_csv_cells_with_line_breaks_commas_and_quotes_read_back_exactly() -> None:
    awkward = "line one\r\nline two\nthree"
    entry = JournalEntry(
        ENTRY, date(2025, 1, 5), EntryStatus.POSTED, "a,b", awkward, '{"k":"v, w"}', None,
        ONE_ENTRY.postings[:2],
    )  # fmt: skip
    writer = csv_writer.CsvWriter(small_head())
    rows = list(
        csv.reader(io.StringIO("".join([*writer.header(), writer.entry(entry)]), newline=""))
    )
    assert [len(row) for row in rows] == [14, 14, 14]
    assert rows[1][3:5] == ["a,b", awkward]
    assert rows[2][13] == '{"k":"v, w"}'


def test_a_journal_ending_on_the_calendars_last_day_still_exports() -> None:
    # Entries written before effective dates were bounded (issue 18, L2) may sit on 9999-12-31.
    writer = beancount_writer.BeancountWriter(small_head())
    last = JournalEntry(
        **{**{f: getattr(ONE_ENTRY, f) for f in ONE_ENTRY.__slots__}, "effective_date": date.max}
    )
    whole = "".join(
        [*writer.header(), writer.entry(last), *writer.footer(ExportClose(date.max, {BANK: 1}))]
    )
    assert "9999-12-31 *" in whole and " balance Assets" not in whole
