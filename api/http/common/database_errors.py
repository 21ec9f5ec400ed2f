"""Database failures a client should simply retry, told apart from real crashes.

A database that is down, restarting or out of connections, a statement that ran past its bound and
a lock waited on past its bound are not bugs of the request: each answers a problem with a stable
code and ``Retry-After`` instead of a 500, and logs a warning rather than a crash. The request's
transaction was rolled back (or never began), and no idempotency key was claimed for it, so a retry
under the same key is safe.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_503_SERVICE_UNAVAILABLE

RETRY_AFTER_S: Final = 2
"""What a 503 or 409 of this kind asks the client to wait before retrying."""

STATEMENT_TIMEOUT: Final = "57014"  # query_canceled: statement_timeout fired
LOCK_TIMEOUT: Final = "55P03"  # lock_not_available: lock_timeout fired
# deadlock_detected: two transactions each waited for a row the other held, and the database
# rolled this one back so that the other could go on (group commit's transactions across
# communities can meet a federation transfer's so); like a lock past its bound, a retry passes.
DEADLOCK: Final = "40P01"
# Connection exceptions (class 08), the server shutting down, crashing or starting up, and too
# many connections: all pass once the server is back.
_UNAVAILABLE_CLASSES: Final = ("08",)
_UNAVAILABLE_STATES: Final = frozenset({"57P01", "57P02", "57P03", "53300"})


@dataclass(frozen=True, slots=True)
class DatabaseFailure:
    status: int
    code: str
    detail: str


UNAVAILABLE: Final = DatabaseFailure(
    HTTP_503_SERVICE_UNAVAILABLE,
    "database_unavailable",
    "the database is unavailable or has no free connection; retry shortly",
)
STATEMENT_TOO_SLOW: Final = DatabaseFailure(
    HTTP_503_SERVICE_UNAVAILABLE,
    "statement_timeout",
    "the database did not finish this request within its time bound; retry shortly",
)
LOCK_WAIT_TOO_LONG: Final = DatabaseFailure(
    HTTP_409_CONFLICT,
    "lock_timeout",
    "another request held a record this one needs for longer than the lock bound (or was "
    "waiting for one this request held); retry",
)
FAILURES: Final = {f.code: f for f in (UNAVAILABLE, STATEMENT_TOO_SLOW, LOCK_WAIT_TOO_LONG)}


def classify(error: BaseException) -> DatabaseFailure | None:
    """The retryable failure behind ``error``, or None when it is something else (a bug)."""
    for link in _chain(error):
        sqlstate = getattr(link, "sqlstate", None)
        if isinstance(sqlstate, str):
            if sqlstate == STATEMENT_TIMEOUT:
                return STATEMENT_TOO_SLOW
            if sqlstate in (LOCK_TIMEOUT, DEADLOCK):
                return LOCK_WAIT_TOO_LONG
            if sqlstate.startswith(_UNAVAILABLE_CLASSES) or sqlstate in _UNAVAILABLE_STATES:
                return UNAVAILABLE
        if isinstance(link, sa.exc.DBAPIError) and link.connection_invalidated:
            return UNAVAILABLE
        if isinstance(link, sa.exc.OperationalError) and "database is locked" in str(link):
            return LOCK_WAIT_TOO_LONG  # SQLite's busy timeout ran out
        if isinstance(link, sa.exc.TimeoutError | sa.exc.InterfaceError | TimeoutError):
            # The pool had no free connection in time, the connection broke, or the server did
            # not answer in time (connect or client-side command timeout).
            return UNAVAILABLE
        if _unreachable(link):
            return UNAVAILABLE
    return None


def _unreachable(error: BaseException) -> bool:
    """Connecting failed: refused, reset, an unknown host, or — from asyncio, when the host has
    several addresses — a plain OSError gathering those. Other OSErrors (a missing file) are
    bugs, not an unavailable database."""
    if isinstance(error, ConnectionError | socket.gaierror):
        return True
    return type(error) is OSError and str(error).startswith(("Multiple exceptions", "Connect call"))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, the driver error it wraps and the errors it was raised from, each once (not
    the errors it was merely raised while handling: a bug in an ``except`` block stays a bug)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        link = pending.pop(0)
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        orig = getattr(link, "orig", None)
        pending += [
            orig if isinstance(orig, BaseException) else None,
            link.__cause__,
        ]
