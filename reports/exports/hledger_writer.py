"""The journal as an hledger journal (checked with hledger 1.25).

Layout: a header comment, ``decimal-mark .``, a ``commodity`` directive per commodity (its
decimals fix the display precision), an ``account`` directive per account with its type, then one
``*`` transaction per posted entry — the entry id as the transaction code ``(id)``, kind and
``reverses`` as tags, the metadata JSON on a comment line — and finally one transaction dated the
cut-off whose zero postings carry a balance assertion (``=``) per account. Amounts are written
``<number> <commodity>`` after two spaces, commodities other than plain letters in quotes.

hledger ends a description at ``;`` and at the line's end, so those become ``,`` and a space in
the description; the exact text is then kept in a ``description:`` comment line as JSON.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import date

from ledger.kernel.model import AccountType
from reports.exports.book import CLOSING_DESCRIPTION, OPENING_DESCRIPTION, ExportClose, ExportHead
from reports.exports.naming import HOURS_EXPORT, commodity_name, decimal_text
from reports.queries.journal import JournalEntry

MEDIA_TYPE = "text/plain"
SUFFIX = "hledger"

_TYPE_TAGS = {
    AccountType.ASSET: "A",
    AccountType.LIABILITY: "L",
    AccountType.EQUITY: "E",
    AccountType.INCOME: "R",
    AccountType.EXPENSE: "X",
}
_PLAIN_SYMBOL = re.compile(r"^[A-Za-z]+$")
_LINE_BREAKS = re.compile(r"[\r\n]+")


def symbol(code: str) -> str:
    """The hledger spelling of a commodity: quoted unless it is letters only."""
    name = commodity_name(code)
    return name if _PLAIN_SYMBOL.match(name) else f'"{name}"'


def description(text: str) -> str:
    """``text`` made safe for a transaction line: no line breaks, no ``;``, no trailing space."""
    return _LINE_BREAKS.sub(" ", text).replace(";", ",").strip()


def comment_text(text: str) -> str:
    """``text`` for a single comment line: line breaks as spaces."""
    return _LINE_BREAKS.sub(" ", text)


class HledgerWriter:
    def __init__(self, head: ExportHead) -> None:
        self._head = head
        self._accounts = head.account_units(symbol)

    def header(self) -> Iterator[str]:
        head = self._head
        yield f"; Journal of {comment_text(head.community)}, exported by Commons Ledger.\n"
        yield "; Posted entries only (pending and voided ones move no posted balance).\n"
        yield f"; HOURS appear as {HOURS_EXPORT}: whole minutes, exact (60 of them = 1 hour).\n"
        yield "; Money and goods appear in their display unit with their exact decimals.\n"
        yield "decimal-mark .\n\n"
        for commodity in head.commodities:
            sample = decimal_text(0, commodity.scale) if commodity.scale else "0."
            name = comment_text(commodity.name)
            yield f"commodity {sample} {symbol(commodity.code)}  ; name: {name}\n"
        yield "\n"
        for account in head.accounts:
            name = self._accounts[account.id][0]
            yield (
                f"account {name}  ; type:{_TYPE_TAGS[account.type]}, account-id:{account.id}\n"
                f"    ; code: {comment_text(account.code)}\n"
                f"    ; name: {comment_text(account.name)}\n"
            )
        yield "\n"
        if head.opening and head.dates.start is not None:
            yield self._opening(head.dates.start)

    def _opening(self, day: date) -> str:
        lines = [f"{day} * {OPENING_DESCRIPTION}  ; kind:opening_balance\n"]
        lines += self._postings(
            (account_id, amount) for account_id, amount in self._head.opening.items() if amount
        )
        return "".join(lines) + "\n"

    def _postings(self, postings: Iterable[tuple[uuid.UUID, int]]) -> list[str]:
        lines = []
        for account_id, amount in postings:
            name, scale, unit = self._accounts[account_id]
            lines.append(f"    {name}  {decimal_text(amount, scale)} {unit}\n")
        return lines

    def entry(self, entry: JournalEntry) -> str:
        shown = description(entry.description)
        tags = f"kind:{description(entry.kind).replace(',', ' ')}"
        if entry.reverses is not None:
            tags += f", reverses:{entry.reverses}"
        lines = [f"{entry.effective_date} * ({entry.id}) {shown}  ; {tags}\n"]
        if shown != entry.description:
            lines.append(f"    ; description: {json.dumps(entry.description)}\n")
        if entry.metadata_json != "{}":
            lines.append(f"    ; metadata: {comment_text(entry.metadata_json)}\n")
        lines += self._postings((p.account_id, p.amount) for p in entry.postings)
        lines.append("\n")
        return "".join(lines)

    def footer(self, close: ExportClose) -> Iterator[str]:
        if not self._head.accounts:
            return
        yield f"{close.as_of} * {CLOSING_DESCRIPTION}\n"
        for account in self._head.accounts:
            name, scale, unit = self._accounts[account.id]
            zero = decimal_text(0, scale)
            amount = decimal_text(close.balances.get(account.id, 0), scale)
            yield f"    {name}  {zero} {unit} = {amount} {unit}\n"
