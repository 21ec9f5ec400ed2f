"""SQLite syncs every commit unless an operator chose otherwise, and says so in one setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from api.settings import Settings, SettingsError
from ledger.store import create_engine

_SYNCHRONOUS = {1: "NORMAL", 2: "FULL"}
"""SQLite's ``PRAGMA synchronous`` numbers."""


async def _synchronous(path: Path, **kwargs: str) -> str:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", **kwargs)
    try:
        async with engine.connect() as connection:
            value = (await connection.execute(text("PRAGMA synchronous"))).scalar_one()
    finally:
        await engine.dispose()
    return _SYNCHRONOUS[int(value)]


async def test_every_commit_is_synced_by_default(tmp_path: Path) -> None:
    assert await _synchronous(tmp_path / "books.db") == "FULL"
    assert Settings.from_env({}).sqlite_synchronous == "FULL"


async def test_an_operator_may_choose_normal(tmp_path: Path) -> None:
    settings = Settings.from_env({"COMMONS_LEDGER_SQLITE_SYNCHRONOUS": "normal"})
    assert settings.sqlite_synchronous == "NORMAL"
    chosen = await _synchronous(tmp_path / "books.db", sqlite_synchronous="NORMAL")
    assert chosen == "NORMAL"


@pytest.mark.parametrize("value", ["OFF", "0", "EXTRA", "fast"])
def test_anything_weaker_or_unknown_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="COMMONS_LEDGER_SQLITE_SYNCHRONOUS"):
        Settings.from_env({"COMMONS_LEDGER_SQLITE_SYNCHRONOUS": value})
