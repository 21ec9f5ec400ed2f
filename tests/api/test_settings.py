"""The database bounds come from the environment, each checked with one line naming it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from api.settings import Settings, SettingsError


def test_database_bounds_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "COMMONS_LEDGER_STATEMENT_TIMEOUT_MS": "2500",
            "COMMONS_LEDGER_LOCK_TIMEOUT_MS": "0",
            "COMMONS_LEDGER_CONNECT_TIMEOUT_S": "3",
            "COMMONS_LEDGER_POOL_TIMEOUT_S": "7",
        }
    )
    assert (settings.statement_timeout_ms, settings.lock_timeout_ms) == (2500, 0)
    assert (settings.connect_timeout_s, settings.pool_timeout_s) == (3, 7)
    defaults = Settings.from_env({})
    # The one difference on purpose: a deployed service runs its jobs; code (tests) opts in.
    assert defaults == replace(Settings(), jobs_interval_s=300)
    assert (defaults.statement_timeout_ms, defaults.lock_timeout_ms) == (15_000, 3_000)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COMMONS_LEDGER_STATEMENT_TIMEOUT_MS", "-1"),
        ("COMMONS_LEDGER_LOCK_TIMEOUT_MS", "1.5"),
        ("COMMONS_LEDGER_CONNECT_TIMEOUT_S", "0"),
        ("COMMONS_LEDGER_POOL_TIMEOUT_S", "100000"),
        ("COMMONS_LEDGER_JOBS_INTERVAL_S", "soon"),
        ("COMMONS_LEDGER_WORKERS", "0"),
        ("COMMONS_LEDGER_WORKERS", "two"),
    ],
)
def test_a_bad_bound_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_a_replica_url_is_read_and_needs_postgresql_on_both_sides() -> None:
    primary = "postgresql+asyncpg://ledger@db:5432/ledger"
    standby = "postgresql+asyncpg://ledger@standby:5432/ledger"
    env = {"COMMONS_LEDGER_DATABASE_URL": primary, "COMMONS_LEDGER_REPLICA_URL": standby}
    assert Settings.from_env(env).replica_url == standby
    assert Settings.from_env({"COMMONS_LEDGER_DATABASE_URL": primary}).replica_url is None
    with pytest.raises(SettingsError, match="COMMONS_LEDGER_REPLICA_URL needs PostgreSQL"):
        Settings.from_env({"COMMONS_LEDGER_REPLICA_URL": standby})  # the SQLite default
    with pytest.raises(SettingsError, match="COMMONS_LEDGER_REPLICA_URL is not a database URL"):
        Settings.from_env({**env, "COMMONS_LEDGER_REPLICA_URL": "standby:5432"})
