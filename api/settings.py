"""Settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ledger.books.group_commit import LANES

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./commons-ledger.db"
_SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class SettingsError(ValueError):
    """An invalid setting; the message is one line that names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    """COMMONS_LEDGER_DATABASE_URL: ``sqlite+aiosqlite:///path`` (the embedded default) or
    ``postgresql+asyncpg://user@host:port/db``."""

    replica_url: str | None = None
    """COMMONS_LEDGER_REPLICA_URL: a PostgreSQL streaming replica (hot standby) of the database,
    ``postgresql+asyncpg://…``. Reports, exports, account statements and the community's figures
    on the member pages then read from it, never staler than the request
    (``ledger.store.replica``); unset, everything reads from the database. See
    docs/operations.md, "A read replica"."""

    admin_token: str | None = None
    """COMMONS_LEDGER_ADMIN_TOKEN: when set, a bearer token with the ``admin`` scope in every
    community, for bootstrapping. At least 24 characters."""

    max_body_bytes: int = 1_048_576
    """COMMONS_LEDGER_MAX_BODY_BYTES: larger request bodies are refused with 413."""

    rate_limit_per_s: int = 200
    """COMMONS_LEDGER_RATE_LIMIT_PER_S: requests per second one credential (or one client address
    without one) may send sustained, refilling a bucket of ``rate_limit_burst``; 0 turns the
    limit off (failed authentication stays throttled per address). See docs/security.md."""

    rate_limit_burst: int = 1000
    """COMMONS_LEDGER_RATE_LIMIT_BURST: requests one credential may send at once before the
    sustained rate applies."""

    auth_failures_per_minute: int = 30
    """COMMONS_LEDGER_AUTH_FAILURES_PER_MINUTE: failed authentications (401) one client address
    may make at once and then per minute; past them it is answered 429 before its token is
    looked up. 0 turns the throttle off."""

    statement_timeout_ms: int = 15_000
    """COMMONS_LEDGER_STATEMENT_TIMEOUT_MS: PostgreSQL cancels a statement running longer
    (the request answers 503 ``statement_timeout``); 0 turns the bound off."""

    lock_timeout_ms: int = 3_000
    """COMMONS_LEDGER_LOCK_TIMEOUT_MS: PostgreSQL gives up waiting for a row lock after this
    long (the request answers 409 ``lock_timeout``); 0 turns the bound off."""

    connect_timeout_s: int = 5
    """COMMONS_LEDGER_CONNECT_TIMEOUT_S: how long opening a database connection may take."""

    pool_timeout_s: int = 5
    """COMMONS_LEDGER_POOL_TIMEOUT_S: how long a request waits for a free pooled connection
    before it answers 503 ``database_unavailable``."""

    idle_in_transaction_timeout_ms: int = 60_000
    """COMMONS_LEDGER_IDLE_IN_TRANSACTION_TIMEOUT_MS: PostgreSQL ends a session whose transaction
    sat idle longer (``idle_in_transaction_session_timeout``); 0 turns the bound off."""

    export_slots: int = 2
    """COMMONS_LEDGER_EXPORT_SLOTS: journal exports and sustainability reports reading the
    database at once (each takes one pooled connection while it reads); more wait for a slot
    up to the pool timeout, then answer 503. The rest of the pool stays free for writes and
    balance reads however many exports are asked for."""

    export_deadline_s: int = 60
    """COMMONS_LEDGER_EXPORT_DEADLINE_S: how long one export or report may read the database in
    all before it is cut short (503). An export is read whole into a spool file first and only
    then sent, so a slow client never holds a connection."""

    shutdown_timeout_s: int = 30
    """COMMONS_LEDGER_SHUTDOWN_TIMEOUT_S: on SIGTERM the server stops accepting connections and
    lets requests in flight finish for up to this long before it cancels them and closes the
    pool."""

    forwarded_allow_ips: str | None = None
    """FORWARDED_ALLOW_IPS (uvicorn's own name): the addresses of the reverse proxies whose
    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed (comma separated, ``*`` for any).
    Unset, none are: the client address is the TCP peer's and the scheme the connection's."""

    workers: int = 1
    """COMMONS_LEDGER_WORKERS: server processes ``commons-ledger serve`` starts on one port
    (``--workers`` overrides it). One serves writes best; see docs/performance.md, "Workers"."""

    jobs_interval_s: int = 0
    """COMMONS_LEDGER_JOBS_INTERVAL_S: the app runs due periodic jobs (report snapshots,
    recurring entries, deadlines) at start-up and then this often; 0 turns the loop off (then run
    ``commons-ledger run-jobs`` from cron). From the environment the default is 300; settings
    built in code (tests) run no loop unless they ask for one."""

    group_commit_max: int = 200
    """COMMONS_LEDGER_GROUP_COMMIT_MAX: single transfers and entries that arrive while their
    lane's previous write is committing are written together in one transaction, at most this
    many (``ledger.books.group_commit``); 1 writes each alone."""

    group_commit_lanes: int = LANES
    """COMMONS_LEDGER_GROUP_COMMIT_LANES: how many such transactions one server process runs at
    once; each community's writes go through one lane, and communities share them."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        url = env.get("COMMONS_LEDGER_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
        try:
            driver = make_url(url).drivername
        except ArgumentError:
            raise SettingsError(
                f"COMMONS_LEDGER_DATABASE_URL is not a database URL: {url!r}"
            ) from None
        if driver not in _SUPPORTED_DRIVERS:
            raise SettingsError(
                f"COMMONS_LEDGER_DATABASE_URL uses {driver!r}; "
                f"use one of {', '.join(_SUPPORTED_DRIVERS)}"
            )
        replica_url = _replica_url(env, driver)
        admin_token = env.get("COMMONS_LEDGER_ADMIN_TOKEN", "").strip() or None
        if admin_token is not None and len(admin_token) < 24:
            raise SettingsError("COMMONS_LEDGER_ADMIN_TOKEN must be at least 24 characters long")
        max_body = env.get("COMMONS_LEDGER_MAX_BODY_BYTES", "").strip() or "1048576"
        if not max_body.isdigit() or not 1024 <= int(max_body) <= 64 * 1_048_576:
            raise SettingsError(
                "COMMONS_LEDGER_MAX_BODY_BYTES must be a whole number from 1024 to 67108864"
            )
        return cls(
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS", "").strip() or None,
            database_url=url,
            replica_url=replica_url,
            admin_token=admin_token,
            max_body_bytes=int(max_body),
            **_bounds(env),
        )


def _replica_url(env: Mapping[str, str], driver: str) -> str | None:
    url = env.get("COMMONS_LEDGER_REPLICA_URL", "").strip() or None
    if url is None:
        return None
    try:
        replica_driver = make_url(url).drivername
    except ArgumentError:
        raise SettingsError(f"COMMONS_LEDGER_REPLICA_URL is not a database URL: {url!r}") from None
    if driver != "postgresql+asyncpg" or replica_driver != driver:
        raise SettingsError(
            "COMMONS_LEDGER_REPLICA_URL needs PostgreSQL: both it and COMMONS_LEDGER_DATABASE_URL"
            " must be postgresql+asyncpg:// URLs (a replica is a PostgreSQL hot standby)"
        )
    return url


_BOUNDS = {
    # field: (variable, default, smallest, largest)
    "statement_timeout_ms": ("COMMONS_LEDGER_STATEMENT_TIMEOUT_MS", 15_000, 0, 3_600_000),
    "lock_timeout_ms": ("COMMONS_LEDGER_LOCK_TIMEOUT_MS", 3_000, 0, 3_600_000),
    "connect_timeout_s": ("COMMONS_LEDGER_CONNECT_TIMEOUT_S", 5, 1, 300),
    "pool_timeout_s": ("COMMONS_LEDGER_POOL_TIMEOUT_S", 5, 1, 300),
    "idle_in_transaction_timeout_ms": (
        "COMMONS_LEDGER_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        60_000,
        0,
        3_600_000,
    ),
    "rate_limit_per_s": ("COMMONS_LEDGER_RATE_LIMIT_PER_S", 200, 0, 1_000_000),
    "rate_limit_burst": ("COMMONS_LEDGER_RATE_LIMIT_BURST", 1000, 1, 1_000_000),
    "auth_failures_per_minute": ("COMMONS_LEDGER_AUTH_FAILURES_PER_MINUTE", 30, 0, 1_000_000),
    "export_slots": ("COMMONS_LEDGER_EXPORT_SLOTS", 2, 1, 64),
    "export_deadline_s": ("COMMONS_LEDGER_EXPORT_DEADLINE_S", 60, 1, 3600),
    "shutdown_timeout_s": ("COMMONS_LEDGER_SHUTDOWN_TIMEOUT_S", 30, 1, 3600),
    "jobs_interval_s": ("COMMONS_LEDGER_JOBS_INTERVAL_S", 300, 0, 86_400),
    "group_commit_max": ("COMMONS_LEDGER_GROUP_COMMIT_MAX", 200, 1, 1000),
    "group_commit_lanes": ("COMMONS_LEDGER_GROUP_COMMIT_LANES", LANES, 1, 64),
    "workers": ("COMMONS_LEDGER_WORKERS", 1, 1, 64),
}


def _bounds(env: Mapping[str, str]) -> dict[str, int]:
    """The timeouts and intervals, each a whole number within its range."""
    values = {}
    for field, (variable, default, smallest, largest) in _BOUNDS.items():
        raw = env.get(variable, "").strip() or str(default)
        if not raw.isdigit() or not smallest <= int(raw) <= largest:
            raise SettingsError(f"{variable} must be a whole number from {smallest} to {largest}")
        values[field] = int(raw)
    return values
