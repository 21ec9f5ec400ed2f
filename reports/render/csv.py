"""One CSV file per report section (RFC 4180, UTF-8, header row first)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from reports.render.cells import safe_text
from reports.render.tables import Cell, Table


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return safe_text(cell)
    if isinstance(cell, date | Decimal):
        return str(cell) if not isinstance(cell, date) else cell.isoformat()
    return str(cell)


def render_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.header)
    writer.writerows([_text(cell) for cell in row] for row in table.rows)
    return out.getvalue()
