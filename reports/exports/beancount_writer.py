"""The journal as a Beancount v3 ledger.

Layout: a header comment, ``commodity`` directives, an ``open`` directive per account (with the
commodity it holds), optionally an opening-balances transaction, then one ``*`` transaction per
posted entry with its id, kind, ``reverses`` and metadata (compact JSON) as metadata lines, and
finally a ``balance`` directive per account dated the day *after* the cut-off — Beancount checks a
balance at the start of its day. Strings escape ``\\`` and ``"``; newlines stay as they are,
which Beancount reads back exactly.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from reports.exports.book import OPENING_DESCRIPTION, ExportClose, ExportHead
from reports.exports.naming import HOURS_EXPORT, commodity_name, decimal_text
from reports.queries.journal import JournalEntry

MEDIA_TYPE = "text/plain"
SUFFIX = "beancount"


def quote(text: str) -> str:
    """A Beancount string literal of ``text``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class BeancountWriter:
    """Turns an export's parts into Beancount text; holds only the chart of accounts."""

    def __init__(self, head: ExportHead) -> None:
        self._head = head
        self._accounts = head.account_units(commodity_name)

    def header(self) -> Iterator[str]:
        head = self._head
        yield f"; Journal of {head.community!r}, exported by Commons Ledger.\n"
        yield "; Posted entries only (pending and voided ones move no posted balance).\n"
        yield f"; HOURS appear as {HOURS_EXPORT}: whole minutes, exact (60 of them = 1 hour).\n"
        yield "; Money and goods appear in their display unit with their exact decimals.\n"
        yield f'option "title" {quote(head.community)}\n\n'
        for commodity in head.commodities:
            yield f"{head.open_date} commodity {commodity_name(commodity.code)}\n"
            yield f"  code: {quote(commodity.code)}\n  name: {quote(commodity.name)}\n"
        yield "\n"
        for account in head.accounts:
            name, _, unit = self._accounts[account.id]
            yield f"{head.open_date} open {name} {unit}\n"
            yield f"  account-id: {quote(str(account.id))}\n"
            yield f"  code: {quote(account.code)}\n  name: {quote(account.name)}\n"
        yield "\n"
        if head.opening and head.dates.start is not None:
            yield self._opening(head.dates.start)

    def _opening(self, day: date) -> str:
        lines = [f'{day} * {quote(OPENING_DESCRIPTION)}\n  kind: "opening_balance"\n']
        lines += self._postings(
            (account_id, amount) for account_id, amount in self._head.opening.items() if amount
        )
        return "".join(lines) + "\n"

    def _postings(self, postings: Iterable[tuple[uuid.UUID, int]]) -> list[str]:
        lines = []
        for account_id, amount in postings:
            name, scale, unit = self._accounts[account_id]
            lines.append(f"  {name}  {decimal_text(amount, scale)} {unit}\n")
        return lines

    def entry(self, entry: JournalEntry) -> str:
        lines = [
            f"{entry.effective_date} * {quote(entry.description)}\n",
            f'  entry-id: "{entry.id}"\n',
            f"  kind: {quote(entry.kind)}\n",
        ]
        if entry.reverses is not None:
            lines.append(f'  reverses: "{entry.reverses}"\n')
        if entry.metadata_json != "{}":
            lines.append(f"  metadata: {quote(entry.metadata_json)}\n")
        lines += self._postings((p.account_id, p.amount) for p in entry.postings)
        lines.append("\n")
        return "".join(lines)

    def footer(self, close: ExportClose) -> Iterator[str]:
        if close.as_of >= date.max:
            # Entries written before dates were bounded may sit on the calendar's last day:
            # there is no day after it to assert on, and the rest of the file still holds.
            yield f"; No balance assertions: the journal ends on {close.as_of}.\n"
            return
        day = close.as_of + timedelta(days=1)
        yield f"; Posted balances at the end of {close.as_of}.\n"
        # Beancount checks a balance over the account and every account under it, so each
        # name asserts its total with its sub-accounts (Assets:Bank with Assets:Bank:Greenhouse).
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for account in self._head.accounts:
            name, _, unit = self._accounts[account.id]
            parts = name.split(":")
            for depth in range(1, len(parts) + 1):
                totals[":".join(parts[:depth]), unit] += close.balances.get(account.id, 0)
        for account in self._head.accounts:
            name, scale, unit = self._accounts[account.id]
            amount = decimal_text(totals[name, unit], scale)
            yield f"{day} balance {name}  {amount} {unit}\n"
