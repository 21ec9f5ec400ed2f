"""The journal as CSV: one row per posting, for spreadsheets.

Columns: ``entry_id, date, status, kind, description, line, account_id, account_code,
account_name, commodity, amount, amount_decimal, reverses, metadata``. ``amount`` is the exact
integer in the commodity's smallest unit (minutes for HOURS, cents for EUR; positive debits,
negative credits), ``amount_decimal`` the same value in the display unit with the commodity's
exact decimals (for HOURS, scale 0, still minutes). ``metadata`` is compact JSON. A date-range
export starts with one ``opening_balance`` row per account with a balance before the range (no
entry id), so that per-account sums are the books' balances at the range's end.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
``'`` so that a spreadsheet shows it instead of evaluating it (OWASP's advice against formula
injection); the two amount columns are numbers and stay as they are.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator

from reports.exports.book import OPENING_DESCRIPTION, ExportClose, ExportHead
from reports.exports.naming import decimal_text
from reports.queries.journal import JournalEntry

MEDIA_TYPE = "text/csv"
SUFFIX = "csv"

COLUMNS = (
    "entry_id",
    "date",
    "status",
    "kind",
    "description",
    "line",
    "account_id",
    "account_code",
    "account_name",
    "commodity",
    "amount",
    "amount_decimal",
    "reverses",
    "metadata",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """A text cell a spreadsheet will not evaluate."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class CsvWriter:
    """Rows are assembled from cells quoted once: an entry's own cells once per entry, an
    account's once per export; per posting only its line and amounts (numbers, never quoted)
    are formatted. The csv module does all quoting, so the text is what it would write."""

    def __init__(self, head: ExportHead) -> None:
        self._head = head
        self._buffer = io.StringIO()
        # The terminator stays "\r\n" even though ``_cells`` cuts it off: the csv module quotes
        # cells holding its characters, and line breaks in a description need quoting.
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")
        scales = head.scales
        self._accounts = {
            account.id: (
                self._cells(
                    str(account.id), cell(account.code), cell(account.name), account.commodity
                ),
                scales[account.commodity],
            )
            for account in head.accounts
        }

    def _cells(self, *cells: str) -> str:
        """``cells`` as one CSV fragment, quoted where needed."""
        self._csv.writerow(cells)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text[:-2]

    def _rows(self, cells: str, postings: Iterable[tuple[uuid.UUID, int]], tail: str) -> str:
        """One line per posting: ``cells`` (entry id, date, status, kind, description), the
        posting's columns, then ``tail`` (reverses, metadata)."""
        lines = []
        for line, (account_id, amount) in enumerate(postings):
            account, scale = self._accounts[account_id]
            decimal = decimal_text(amount, scale)
            lines.append(f"{cells},{line},{account},{amount},{decimal},{tail}\r\n")
        return "".join(lines)

    def header(self) -> Iterator[str]:
        yield self._cells(*COLUMNS) + "\r\n"
        head = self._head
        if head.opening and head.dates.start is not None:
            day = head.dates.start.isoformat()
            cells = self._cells("", day, "posted", "opening_balance", OPENING_DESCRIPTION)
            balances = ((account_id, amount) for account_id, amount in head.opening.items())
            yield self._rows(cells, ((a, amount) for a, amount in balances if amount), ",{}")

    def entry(self, entry: JournalEntry) -> str:
        cells = self._cells(
            str(entry.id),
            entry.effective_date.isoformat(),
            entry.status.value,
            cell(entry.kind),
            cell(entry.description),
        )
        reverses = "" if entry.reverses is None else str(entry.reverses)
        tail = self._cells(reverses, entry.metadata_json)
        return self._rows(cells, ((p.account_id, p.amount) for p in entry.postings), tail)

    def footer(self, close: ExportClose) -> Iterator[str]:
        # CSV has no assertions: the rows themselves sum to ``close.balances``.
        del close
        yield from ()
