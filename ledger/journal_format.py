"""The file format of ``commons-ledger import-journal``: historical entries as CSV or JSON Lines.

**CSV** (UTF-8, a header row first, one row per posting; the columns of our own CSV export, so
an export re-imports as it is, and a treasurer's spreadsheet needs only the required ones):

- ``entry_id`` (required): any label; consecutive rows with the same label are one entry.
- ``date`` (required): the entry's effective date, YYYY-MM-DD.
- ``description`` (required, may be empty), ``kind`` (default ``import``) and ``metadata`` (a
  JSON object, default ``{}``): the entry's, on its first row; later rows leave them empty or
  repeat them exactly.
- ``account_code`` (required): the code of an existing, open account of the community.
- ``amount`` (required): a whole number in the commodity's smallest unit (minutes for HOURS,
  cents for EUR); positive debits, negative credits.
- ``commodity`` (optional): when given, must be the account's commodity.
- ``status`` (optional): when given, must be ``posted`` (pending and voided entries and the
  export's opening-balance rows are not history to import).
Other columns are ignored. A text cell the export protected from spreadsheet formulas (``'=…``)
is read without its leading ``'``.

**JSON Lines** (a file ending in ``.jsonl`` or ``.ndjson``): one entry per line,
``{"date": "2024-01-31", "description": "…", "kind": "…", "metadata": {…},
"postings": [{"account_code": "…", "amount": 60, "commodity": "HOURS"}, …]}`` (``kind``,
``metadata`` and ``commodity`` optional).

Parsing is pure and collects every problem as a :class:`~ledger.spreadsheet.RowError` naming the
file and line (the CSV line of the entry's first posting).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import msgspec

from ledger.spreadsheet import RowError

DEFAULT_KIND: Final = "import"
REQUIRED_COLUMNS: Final = ("entry_id", "date", "description", "account_code", "amount")
_INTEGER = re.compile(r"-?[0-9]+")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ENTRY_FIELDS = ("date", "description", "kind", "metadata")


@dataclass(frozen=True, slots=True)
class FilePosting:
    account_code: str
    amount: int
    """Smallest unit of the account's commodity; positive debits, negative credits."""
    commodity: str | None = None


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One historical entry as the file states it, before any account is looked at."""

    line: int
    """The file line that names the entry in problems (its first posting's, in CSV)."""
    effective_date: date
    description: str
    kind: str
    metadata: dict[str, Any]
    postings: tuple[FilePosting, ...]


@dataclass
class ParsedJournal:
    source: str
    entries: list[FileEntry] = field(default_factory=list)
    problems: list[RowError] = field(default_factory=list)


def parse(source: str, data: bytes) -> ParsedJournal:
    """The entries of a file called ``source`` (its extension picks the format)."""
    parsed = ParsedJournal(source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parsed.problems.append(RowError(source, 1, f"not UTF-8 text ({exc.reason})"))
        return parsed
    if source.lower().endswith((".jsonl", ".ndjson")):
        _parse_json_lines(text, parsed)
    else:
        _parse_csv(text, parsed)
    return parsed


def _unprotect(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS):
        return text[1:]
    return text


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date {text!r} is not YYYY-MM-DD") from None


def _metadata(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        raise ValueError(f"metadata {text!r} is not JSON") from None
    if not isinstance(value, dict):
        raise ValueError("metadata must be a JSON object")
    return value


def _parse_csv(text: str, parsed: ParsedJournal) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    missing = [name for name in REQUIRED_COLUMNS if name not in (header or [])]
    if header is None or missing:
        parsed.problems.append(RowError(parsed.source, 1, f"the header lacks {', '.join(missing)}"))
        return
    index = {name: header.index(name) for name in header}
    group: list[tuple[int, list[str]]] = []
    label: str | None = None
    for read in reader:
        if not any(read):
            continue
        if len(read) > len(header):
            parsed.problems.append(
                RowError(parsed.source, reader.line_num, "more cells than the header")
            )
            continue
        cells = read + [""] * (len(header) - len(read))
        row_label = cells[index["entry_id"]].strip()
        if group and row_label != label:
            _csv_entry(group, index, parsed)
            group = []
        label = row_label
        group.append((reader.line_num, cells))
    if group:
        _csv_entry(group, index, parsed)


def _csv_entry(
    group: list[tuple[int, list[str]]], index: dict[str, int], parsed: ParsedJournal
) -> None:
    def cell(cells: list[str], name: str) -> str:
        return _unprotect(cells[index[name]].strip()) if name in index else ""

    first_line, first = group[0]
    try:
        if not cell(first, "entry_id"):
            raise ValueError("entry_id is empty (an export's opening balance is no entry)")
        postings = []
        for line, cells in group:
            status = cell(cells, "status")
            if status not in ("", "posted"):
                raise ValueError(f"line {line}: status {status!r}; only posted entries import")
            for name in _ENTRY_FIELDS:
                if line != first_line and cell(cells, name) not in ("", cell(first, name)):
                    raise ValueError(f"line {line}: {name} differs from the entry's first row")
            amount = cell(cells, "amount")
            if not _INTEGER.fullmatch(amount):
                raise ValueError(f"line {line}: amount {amount!r} is not a whole number")
            code = cell(cells, "account_code")
            if not code:
                raise ValueError(f"line {line}: account_code is empty")
            postings.append(FilePosting(code, int(amount), cell(cells, "commodity") or None))
        parsed.entries.append(
            FileEntry(
                line=first_line,
                effective_date=_date(cell(first, "date")),
                description=cell(first, "description"),
                kind=cell(first, "kind") or DEFAULT_KIND,
                metadata=_metadata(cell(first, "metadata")),
                postings=tuple(postings),
            )
        )
    except ValueError as exc:
        parsed.problems.append(RowError(parsed.source, first_line, str(exc)))


class _JsonPosting(msgspec.Struct, forbid_unknown_fields=True):
    account_code: str
    amount: int
    commodity: str | None = None


class _JsonEntry(msgspec.Struct, forbid_unknown_fields=True):
    date: str
    postings: list[_JsonPosting]
    description: str = ""
    kind: str = DEFAULT_KIND
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


_json_entry = msgspec.json.Decoder(_JsonEntry)


def _parse_json_lines(text: str, parsed: ParsedJournal) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found = _json_entry.decode(line)
            entry = FileEntry(
                line=number,
                effective_date=_date(found.date),
                description=found.description,
                kind=found.kind,
                metadata=found.metadata,
                postings=tuple(
                    FilePosting(p.account_code, p.amount, p.commodity) for p in found.postings
                ),
            )
        except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
            parsed.problems.append(RowError(parsed.source, number, str(exc)))
            continue
        parsed.entries.append(entry)
