"""What the commands print: lines on standard output, amounts in people's units."""

from __future__ import annotations

import sys


def say(line: str = "") -> None:
    """One line on standard output, flushed at once (the server's log follows it)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
