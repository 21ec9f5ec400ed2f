"""Engines for the two supported databases.

SQLite (aiosqlite) is the embedded default. Its connections run in WAL mode with foreign keys on
and a busy timeout, and a write transaction starts with ``BEGIN IMMEDIATE``: taking the write lock
up front makes concurrent writers queue on the busy timeout. A deferred ``BEGIN`` would take a read
lock first and fail with "database is locked" when upgrading it, which no timeout can help.
Read-only units of work keep a deferred ``BEGIN`` so that readers never wait for writers.

PostgreSQL (asyncpg) runs at READ COMMITTED; writers serialise on row locks (see the repository).
Its connections carry bounds (:class:`DatabaseTimeouts`) so that no request waits without end for
the network, the pool, a lock or a slow statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ledger.store.sqlite_thread import open_connection

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another process's write lock before failing, unless
:class:`DatabaseTimeouts` says otherwise."""
WRITE_OPTION = "commons_ledger_write"
"""Execution option set on a connection whose transaction will write."""
POOL_SIZE = 15
"""Connections an engine's pool keeps open (both engines; a SQLite file's too), and as many
units of work at once (``uow.CheckoutQueue``)."""


CLIENT_GRACE_S = 2.0
"""How much longer than the server's statement bound the client waits for an answer: past it the
server itself is unreachable (a network partition), and the connection is given up."""


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """Bounds on every PostgreSQL connection of an engine; 0 turns a server-side bound off."""

    statement_ms: int = 15_000
    """The server cancels a statement that runs longer (SQLSTATE 57014)."""
    lock_ms: int = 3_000
    """The server stops waiting for a lock after this long (SQLSTATE 55P03); on SQLite, the busy
    timeout (then "database is locked")."""
    connect_s: int = 5
    """Opening a connection, the TCP and start-up handshake included."""
    pool_s: int = 5
    """Waiting for a free connection of the pool (both engines)."""
    idle_in_transaction_ms: int = 60_000
    """The server ends a session whose transaction sat idle this long (SQLSTATE 25P03): a
    request that stalls between statements with a transaction open cannot keep its locks and
    its connection for ever."""

    def postgres_options(self) -> dict[str, Any]:
        # Session settings travel in the start-up packet: no extra round trip per transaction,
        # unlike a ``SET LOCAL`` at each BEGIN, and they hold for every statement on the
        # connection.
        server_settings = {
            "statement_timeout": str(self.statement_ms),
            "lock_timeout": str(self.lock_ms),
            "idle_in_transaction_session_timeout": str(self.idle_in_transaction_ms),
        }
        connect_args: dict[str, Any] = {
            "timeout": self.connect_s,
            "server_settings": server_settings,
        }
        if self.statement_ms:
            connect_args["command_timeout"] = self.statement_ms / 1000 + CLIENT_GRACE_S
        return {"connect_args": connect_args, "pool_timeout": self.pool_s}


def create_engine(
    url: str, *, timeouts: DatabaseTimeouts | None = None, **kwargs: Any
) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite://…`` or ``postgresql+asyncpg://…``).

    On PostgreSQL, ``timeouts`` bounds each connection (the service passes its settings; tools
    such as migrations run without server-side bounds)."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        # SQLite's only bound is on waiting for another process's write lock.
        busy_ms = timeouts.lock_ms if timeouts and timeouts.lock_ms else SQLITE_BUSY_TIMEOUT_MS
        if make_url(url).database not in (None, "", ":memory:"):  # a file: a pool of its own
            kwargs = _kept_pool(kwargs)
            if timeouts is not None:
                # The pool's own default is 30 s: without this a request found no connection
                # only after 30 s, whatever the service was configured to wait.
                kwargs.setdefault("pool_timeout", timeouts.pool_s)
        return _sqlite_engine(url, busy_ms, **kwargs)
    if backend == "postgresql":
        kwargs = _kept_pool(kwargs)
        # No ``pool_pre_ping``: it cost a round trip (three with asyncpg's ping) at every
        # checkout. A connection broken by a database restart instead fails the one statement
        # that meets it; SQLAlchemy sees a disconnect, invalidates that connection and every
        # other pooled one opened before it, and the request answers 503
        # ``database_unavailable`` with ``Retry-After`` (``api.http.common.database_errors``),
        # never retried
        # behind the client's back (its transaction may have been cut at any point). The next
        # checkouts open fresh connections, so the service recovers without a restart of its
        # own (``tests/faults/test_database_restart.py``).
        if timeouts is not None:
            kwargs = timeouts.postgres_options() | kwargs
        return create_async_engine(url, **kwargs)
    raise ValueError(
        f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg"
    )


def _kept_pool(kwargs: dict[str, Any]) -> dict[str, Any]:
    """:data:`POOL_SIZE` connections kept open, none beyond. An overflow connection is closed
    when it comes back to a pool whose kept ones are all idle, so a steady load kept reopening
    them: on PostgreSQL a server process forked, TLS negotiated and statements prepared again
    about every hundred balance reads (the read's CPU fell 7–17 % without it); on SQLite a
    thread started and the file opened and set up every forty (docs/performance.md,
    "Connections kept, the collector's pauses, guards in place")."""
    return {"pool_size": POOL_SIZE, "max_overflow": 0} | kwargs


def _sqlite_engine(url: str, busy_timeout_ms: int, **kwargs: Any) -> AsyncEngine:
    # The connections aiosqlite would open, able to run a whole unit of work on their own
    # thread (``ledger.store.sqlite_thread``).
    sa_url = make_url(url)
    args, params = sa_url.get_dialect()().create_connect_args(sa_url)
    params |= kwargs.pop("connect_args", {})

    async def connect() -> Any:
        return await open_connection(*args, **params)

    engine = create_async_engine(url, async_creator=connect, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to us: the driver's own implicit BEGIN is deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
