"""Settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./commons-ledger.db"
_SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class SettingsError(ValueError):
    """An invalid setting; the message is one line that names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    """COMMONS_LEDGER_DATABASE_URL: ``sqlite+aiosqlite:///path`` (the embedded default) or
    ``postgresql+asyncpg://user@host:port/db``."""

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
        return cls(database_url=url)
