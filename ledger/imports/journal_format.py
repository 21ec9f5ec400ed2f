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

Parsing is pure and collects every problem as a :class:`~ledger.imports.spreadsheet.RowError`
naming the
file and line (the CSV line of the entry's first posting).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import msgspec

from ledger.imports.spreadsheet import RowError
from ledger.kernel.inputs import JSON_DEPTH_MAX, json_problem

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
    nul_lines = [n for n, line in enumerate(text.splitlines(), start=1) if "\x00" in line]
    if nul_lines:
        # PostgreSQL stores no NUL; refused before any cell is read, as the API refuses it.
        parsed.problems += [
            RowError(source, n, "text must not contain NUL characters") for n in nul_lines
        ]
        return parsed
    if source.lower().endswith((".jsonl", ".ndjson")):
        _parse_json_lines(text, parsed)
    else:
        _parse_csv(text, parsed)
    return parsed


def _unprotect(text: str) -> str:
    if text[:1] == "'" and text[1:].startswith(_FORMULA_STARTS):
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
        raise ValueError(f"metadata {text[:80]!r} is not JSON") from None
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None
    if not isinstance(value, dict):
        raise ValueError("metadata must be a JSON object")
    if problem := json_problem(value):
        raise ValueError(f"metadata: {problem}")
    return value


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where each column the format reads sits in a row (``None``: the file has no such one)."""

    entry_id: int
    amount: int
    account_code: int
    status: int | None
    commodity: int | None
    entry_fields: tuple[int | None, ...]
    """Of :data:`_ENTRY_FIELDS`, in that order."""

    @classmethod
    def of(cls, header: list[str]) -> _Columns:
        index = {name: header.index(name) for name in header}
        return cls(
            entry_id=index["entry_id"],
            amount=index["amount"],
            account_code=index["account_code"],
            status=index.get("status"),
            commodity=index.get("commodity"),
            entry_fields=tuple(index.get(name) for name in _ENTRY_FIELDS),
        )


def _cell(cells: list[str], at: int | None) -> str:
    return "" if at is None else _unprotect(cells[at].strip())


def _parse_csv(text: str, parsed: ParsedJournal) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    missing = [name for name in REQUIRED_COLUMNS if name not in (header or [])]
    if header is None or missing:
        parsed.problems.append(RowError(parsed.source, 1, f"the header lacks {', '.join(missing)}"))
        return
    columns = _Columns.of(header)
    width = len(header)
    group: list[tuple[int, list[str]]] = []
    label: str | None = None
    for read in _rows(reader, parsed):
        if not any(read):
            continue
        if len(read) != width:
            if len(read) > width:
                parsed.problems.append(
                    RowError(parsed.source, reader.line_num, "more cells than the header")
                )
                continue
            read.extend([""] * (width - len(read)))
        row_label = read[columns.entry_id].strip()
        if group and row_label != label:
            _csv_entry(group, columns, parsed)
            group = []
        label = row_label
        group.append((reader.line_num, read))
    if group:
        _csv_entry(group, columns, parsed)


def _rows(reader: Any, parsed: ParsedJournal) -> Iterator[list[str]]:
    """The reader's rows; a row it cannot read (a cell past the csv module's 131,072 characters)
    ends the file with a problem of its line — the reader cannot resync after it."""
    try:
        yield from reader
    except csv.Error as exc:
        parsed.problems.append(
            RowError(parsed.source, reader.line_num, f"unreadable CSV (a cell too long?): {exc}")
        )


def _csv_entry(
    group: list[tuple[int, list[str]]], columns: _Columns, parsed: ParsedJournal
) -> None:
    first_line, first = group[0]
    try:
        if not _cell(first, columns.entry_id):
            raise ValueError("entry_id is empty (an export's opening balance is no entry)")
        fields = [_cell(first, at) for at in columns.entry_fields]
        postings = []
        for line, cells in group:
            status = _cell(cells, columns.status)
            if status and status != "posted":
                raise ValueError(f"line {line}: status {status!r}; only posted entries import")
            if line != first_line:
                for name, at, value in zip(
                    _ENTRY_FIELDS, columns.entry_fields, fields, strict=True
                ):
                    if at is not None and cells[at] and _cell(cells, at) not in ("", value):
                        raise ValueError(f"line {line}: {name} differs from the entry's first row")
            amount = _cell(cells, columns.amount)
            if not _INTEGER.fullmatch(amount):
                raise ValueError(f"line {line}: amount {amount!r} is not a whole number")
            code = _cell(cells, columns.account_code)
            if not code:
                raise ValueError(f"line {line}: account_code is empty")
            postings.append(FilePosting(code, int(amount), _cell(cells, columns.commodity) or None))
        when, description, kind, metadata = fields
        parsed.entries.append(
            FileEntry(
                line=first_line,
                effective_date=_date(when),
                description=description,
                kind=kind or DEFAULT_KIND,
                metadata=_metadata(metadata),
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


_TOO_DEEP = f"JSON must not be nested more than {JSON_DEPTH_MAX} levels deep"


def _decode_line(line: str) -> _JsonEntry:
    try:
        found = _json_entry.decode(line)
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None
    if problem := json_problem(found.metadata):
        raise ValueError(f"metadata: {problem}")
    return found


def _parse_json_lines(text: str, parsed: ParsedJournal) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found = _decode_line(line)
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
