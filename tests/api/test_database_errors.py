"""Which errors mean "the database is unavailable, retry" and which are bugs (500)."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from api.http.common.database_errors import (
    LOCK_WAIT_TOO_LONG,
    STATEMENT_TOO_SLOW,
    UNAVAILABLE,
    classify,
)


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(sqlstate: str) -> sa.exc.DBAPIError:
    return sa.exc.DBAPIError("SELECT 1", {}, _DriverError(sqlstate))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_wrapped("57014"), STATEMENT_TOO_SLOW),
        (_wrapped("55P03"), LOCK_WAIT_TOO_LONG),
        (_wrapped("40P01"), LOCK_WAIT_TOO_LONG),  # a deadlock: this transaction was rolled back
        (_wrapped("57P01"), UNAVAILABLE),  # the server is shutting down
        (_wrapped("57P03"), UNAVAILABLE),  # the server is starting up
        (_wrapped("08006"), UNAVAILABLE),  # the connection broke
        (ConnectionRefusedError(111, "Connect call failed"), UNAVAILABLE),
        (socket.gaierror(-2, "Name or service not known"), UNAVAILABLE),
        (OSError("Multiple exceptions: [Errno 111] Connect call failed"), UNAVAILABLE),
        (TimeoutError(), UNAVAILABLE),
        (sa.exc.TimeoutError("QueuePool limit reached"), UNAVAILABLE),
        (sa.exc.OperationalError("BEGIN", {}, Exception("database is locked")), LOCK_WAIT_TOO_LONG),
        (_wrapped("23505"), None),  # a unique violation is a bug here
        (FileNotFoundError(2, "No such file"), None),
        (ValueError("nothing to do with databases"), None),
    ],
)
def test_classify(error: BaseException, expected: object) -> None:
    assert classify(error) is expected


def test_an_error_raised_from_a_driver_failure_is_classified_by_its_cause() -> None:
    wrapped = RuntimeError("while writing")
    wrapped.__cause__ = ConnectionResetError(104, "reset")
    assert classify(wrapped) is UNAVAILABLE
    # Raised while handling one (its context), but not from it: a bug stays a bug.
    bug = KeyError("a bug in an except block")
    bug.__context__ = ConnectionResetError(104, "reset")
    assert classify(bug) is None
