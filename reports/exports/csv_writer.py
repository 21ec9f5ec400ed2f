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
from collections.abc import Iterator

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
    def __init__(self, head: ExportHead) -> None:
        self._head = head
        scales = head.scales
        # Per account, its cells as text once: ``str(uuid)`` per row would dominate the cost.
        self._accounts = {
            account.id: (
                str(account.id),
                cell(account.code),
                cell(account.name),
                account.commodity,
                scales[account.commodity],
            )
            for account in head.accounts
        }
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def header(self) -> Iterator[str]:
        self._csv.writerow(COLUMNS)
        head = self._head
        if head.opening and head.dates.start is not None:
            day = head.dates.start.isoformat()
            cells = ("", day, "posted", "opening_balance", OPENING_DESCRIPTION)
            balances = [
                (account_id, amount) for account_id, amount in head.opening.items() if amount
            ]
            for line, (account_id, amount) in enumerate(balances):
                self._row(cells, line, account_id, amount, ("", "{}"))
        yield self._take()

    def _row(
        self,
        cells: tuple[str, ...],
        line: int,
        account_id: uuid.UUID,
        amount: int,
        tail: tuple[str, str],
    ) -> None:
        """Writes ``cells`` (entry id, date, status, kind, description), the posting's columns,
        then ``tail`` (reverses, metadata)."""
        account, code, name, commodity, scale = self._accounts[account_id]
        posting = (line, account, code, name, commodity, amount, decimal_text(amount, scale))
        self._csv.writerow((*cells, *posting, *tail))

    def entry(self, entry: JournalEntry) -> str:
        cells = (
            str(entry.id),
            entry.effective_date.isoformat(),
            entry.status.value,
            cell(entry.kind),
            cell(entry.description),
        )
        tail = ("" if entry.reverses is None else str(entry.reverses), entry.metadata_json)
        for line, posting in enumerate(entry.postings):
            self._row(cells, line, posting.account_id, posting.amount, tail)
        return self._take()

    def footer(self, close: ExportClose) -> Iterator[str]:
        # CSV has no assertions: the rows themselves sum to ``close.balances``.
        del close
        yield from ()
