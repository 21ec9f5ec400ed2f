"""The report as an XLSX workbook: one sheet per section, numbers as numbers (computed values,
never formulas), dates as dates, text escaped against formula injection."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import xlsxwriter

from reports.render.cells import safe_text
from reports.render.tables import tables
from reports.values import SustainabilityReport


def render_xlsx(report: SustainabilityReport) -> bytes:
    out = io.BytesIO()
    # No URL or formula guessing: every string is written as the text it is.
    workbook = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = workbook.add_format({"bold": True})
    formats = _Formats(
        workbook.add_format({"num_format": "yyyy-mm-dd"}),
        workbook.add_format({"num_format": "0.0000"}),
    )
    for table in tables(report):
        sheet = workbook.add_worksheet(table.name[:31])
        sheet.write_row(0, 0, table.header, bold)
        for row_index, row in enumerate(table.rows, start=1):
            for column, cell in enumerate(row):
                _write(sheet, (row_index, column), cell, formats)
        sheet.set_column(0, len(table.header) - 1, 18)
    workbook.close()
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class _Formats:
    day: Any
    ratio: Any


def _write(sheet: Any, at: tuple[int, int], cell: object, formats: _Formats) -> None:
    row, column = at
    day, ratio = formats.day, formats.ratio
    if cell is None:
        sheet.write_blank(row, column, None)
    elif isinstance(cell, bool | str):
        sheet.write_string(row, column, safe_text(str(cell)))
    elif isinstance(cell, int):
        sheet.write_number(row, column, cell)
    elif isinstance(cell, Decimal):
        # A ratio: a spreadsheet number is a double anyway; amounts stay exact integers.
        sheet.write_number(row, column, float(cell), ratio)
    elif isinstance(cell, date):
        sheet.write_datetime(row, column, cell, day)
    else:
        raise TypeError(f"no cell for {type(cell).__name__}")
