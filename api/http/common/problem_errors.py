"""The ``errors`` of a 400 problem: one :class:`ProblemError` per field that does not fit, the
same shape for the body, the query, the path and the headers.

A body error points at its field with a JSON Pointer (RFC 6901: ``/postings/0/amount``; ``""``
is the whole body); a parameter error names its parameter in ``key``. Clients can map either onto
the form field to mark.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import msgspec


class ErrorSource(enum.StrEnum):
    BODY = "body"
    QUERY = "query"
    PATH = "path"
    HEADER = "header"
    COOKIE = "cookie"


class ProblemError(msgspec.Struct, frozen=True):
    """One part of a request that does not fit its schema."""

    source: ErrorSource
    message: str
    pointer: str | msgspec.UnsetType = msgspec.UNSET
    """In the body: a JSON Pointer to the field (``/amount``; ``""`` for the body itself)."""
    key: str | msgspec.UnsetType = msgspec.UNSET
    """In the query, the path or the headers: the parameter's name."""


_SOURCES = frozenset(ErrorSource)
_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")


def _pointer(path: str) -> str:
    """``$.postings[0].amount`` (msgspec's path) → ``/postings/0/amount``."""
    steps = [name or index for name, index in _STEP.findall(path.removeprefix("$"))]
    return "".join("/" + step.replace("~", "~0").replace("/", "~1") for step in steps)


def body_error(message: str) -> ProblemError:
    """The error of a body that msgspec refused, pointing at the field its message names."""
    found = _AT.match(message)
    assert found is not None  # the pattern matches any text
    return ProblemError(ErrorSource.BODY, found["message"], pointer=_pointer(found["path"] or "$"))


def from_litestar(extra: list[Any]) -> list[ProblemError]:
    """Litestar's ``{"message", "key", "source"}`` items as :class:`ProblemError` s.

    Litestar validates every parameter of a handler at once, and a parameter it never reached
    (the community's ``slug``, taken by a dependency) comes back as an item whose message is
    only its own name quoted (``"'slug'"``): that is no error of the request, and is dropped."""
    found: list[ProblemError] = []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message, key = str(item.get("message", "")), item.get("key")
        source = item.get("source")
        source = source if source in _SOURCES else ErrorSource.BODY
        if key is not None and message == repr(key):
            continue
        if source == ErrorSource.BODY:
            found.append(body_error(message))
        else:
            named = msgspec.UNSET if key is None else str(key)
            found.append(ProblemError(ErrorSource(source), message, key=named))
    return found
