"""What the commands print: lines on standard output, amounts in people's units."""

from __future__ import annotations

import sys

from ledger.kernel.model import HOURS


def say(line: str = "") -> None:
    """One line on standard output, flushed at once (the server's log follows it)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def amount(value: int, commodity: str, scale: int) -> str:
    """An integer amount for people: minutes as hours and minutes, money with its decimals."""
    sign = "-" if value < 0 else ""
    if commodity == HOURS:
        hours, minutes = divmod(abs(value), 60)
        return f"{sign}{hours} h {minutes:02d} min"
    whole, fraction = divmod(abs(value), 10**scale)
    decimals = f".{fraction:0{scale}d}" if scale else ""
    return f"{sign}{whole:,}{decimals} {commodity}"
