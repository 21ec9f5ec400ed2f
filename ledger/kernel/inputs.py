"""Checks of request fields that every feature shares and that need no database."""

from __future__ import annotations

from typing import Final

from ledger.kernel import errors

NAME_MAX_CHARS: Final = 200
"""Longest name (of a member, account, fund …) in characters, unless a field says otherwise."""


def require_text(field: str, value: str, max_length: int = NAME_MAX_CHARS) -> None:
    """``value`` is text of 1 to ``max_length`` characters, not only blanks."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise errors.InvalidInput(f"{field} must be 1–{max_length} characters of text")
