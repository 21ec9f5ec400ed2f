"""Checks of request fields that every feature shares and that need no database."""

from __future__ import annotations

from typing import Final

from ledger.kernel import errors
from ledger.kernel.model import AMOUNT_ABS_MAX

NAME_MAX_CHARS: Final = 200
"""Longest name (of a member, account, fund …) in characters, unless a field says otherwise."""


def require_text(field: str, value: str, max_length: int = NAME_MAX_CHARS) -> None:
    """``value`` is text of 1 to ``max_length`` characters, not only blanks."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise errors.InvalidInput(f"{field} must be 1–{max_length} characters of text")


PAGE_SIZE_MAX: Final = 1000
"""Largest page a use case returns; the API offers clients at most 500 and peeks one further."""


def check_page_size(limit: int) -> None:
    """``limit`` is an integer page size from 1 to :data:`PAGE_SIZE_MAX`."""
    if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
        raise errors.InvalidInput(f"limit must be from 1 to {PAGE_SIZE_MAX}, got {limit!r}")


JSON_DEPTH_MAX: Final = 32
"""Deepest nesting of arrays and objects accepted in any JSON a client sends (a request body, an
imported line's metadata). Real documents here are three or four levels deep."""


def json_problem(value: object) -> str | None:
    """Why decoded JSON ``value`` is refused — nested deeper than :data:`JSON_DEPTH_MAX`, or text
    (a key or a value) holding a NUL character, which PostgreSQL cannot store — or None.

    Walks with an explicit stack: the depth is the sender's choice, so no recursion on it."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "text must not contain NUL characters"
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > JSON_DEPTH_MAX:
            return f"JSON must not be nested more than {JSON_DEPTH_MAX} levels deep"
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return None


METADATA_KEYS_MAX: Final = 50
METADATA_KEY_CHARS_MAX: Final = 64
METADATA_TEXT_CHARS_MAX: Final = 1000


def metadata_problem(metadata: object) -> str | None:
    """Why ``metadata`` is refused, or None. Flat: up to 50 keys of 1–64 characters, each holding
    text of at most 1,000 characters, a whole number within ±(2^53 − 1), true/false or null —
    what ledgers' exports keep. The API's schema (``api.http.schemas.Metadata``) states the same
    limits; these are the rules every path (API, imports) meets in ``ledger.books.rules``."""
    if not isinstance(metadata, dict):
        return "metadata must be an object"
    if len(metadata) > METADATA_KEYS_MAX:
        return f"metadata must have at most {METADATA_KEYS_MAX} keys"
    for key, value in metadata.items():
        if not isinstance(key, str) or not 0 < len(key) <= METADATA_KEY_CHARS_MAX or "\x00" in key:
            return f"metadata keys must be 1–{METADATA_KEY_CHARS_MAX} characters without NUL"
        if isinstance(value, str):
            if len(value) > METADATA_TEXT_CHARS_MAX or "\x00" in value:
                return (
                    f"metadata {key!r} must be text of at most {METADATA_TEXT_CHARS_MAX} "
                    "characters without NUL"
                )
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -AMOUNT_ABS_MAX <= value <= AMOUNT_ABS_MAX:
                return f"metadata {key!r} must be a whole number within ±{AMOUNT_ABS_MAX}"
        elif value is not None and not isinstance(value, bool):
            return (
                f"metadata {key!r} must be text, a whole number, true/false or null "
                "(metadata is flat)"
            )
    return None


def text_problem(field: str, value: str) -> str | None:
    """Why text ``value`` of ``field`` is refused — a NUL character, which PostgreSQL cannot
    store and SQLite would — or None."""
    return f"{field} must not contain NUL characters" if "\x00" in value else None
