"""Opaque cursors: the position after a page's last item, base64url-encoded JSON."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, TypeVar

import msgspec
from litestar.exceptions import ClientException
from litestar.params import QueryParameter

from api.http.schemas import Page

T = TypeVar("T")
S = TypeVar("S")

LIMIT_DEFAULT = 50
LIMIT_MAX = 500

PageLimit = Annotated[
    int, QueryParameter(ge=1, le=LIMIT_MAX, description=f"page size, at most {LIMIT_MAX}")
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=500,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page (opaque: any other value is a 400)",
    ),
]
AsOf = Annotated[
    date | None,
    QueryParameter(description="a day (YYYY-MM-DD): the figures as of its end; default now"),
]


def encode_cursor(position: object) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None, position_type: type[T]) -> T | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if not _fits_the_database(msgspec.json.decode(raw)):
            raise ValueError("a number past the database's 64-bit integers")
        return msgspec.json.decode(raw, type=position_type)
    except (ValueError, msgspec.DecodeError, RecursionError):
        raise ClientException("cursor is not one this service gave out") from None


_BIGINT = range(-(2**63), 2**63)
"""What a BIGINT column holds on both engines: a larger position is no position of ours."""


def _fits_the_database(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, int) and not isinstance(item, bool) and item not in _BIGINT:
            return False
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return True


def page_of(
    found: Sequence[S], limit: int, render: Callable[[S], T], position: Callable[[S], object]
) -> Page[T]:
    """A page from ``limit + 1`` fetched items: the extra one only tells that more follow."""
    items = [render(item) for item in found[:limit]]
    more = len(found) > limit
    return Page(items, encode_cursor(position(found[limit - 1])) if more else None)
