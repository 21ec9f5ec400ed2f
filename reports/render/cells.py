"""Spreadsheet safety: text that a spreadsheet would run as a formula is escaped.

A cell whose text starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is a
formula to Excel and LibreOffice; the OWASP guidance is to prefix it with an apostrophe, which
makes it plain text. Numbers are never escaped: they are written as numbers."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text
