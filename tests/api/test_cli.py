"""The operator's command line, on a throw-away SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main
from tests.databases import sqlite_url


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_url(tmp_path / "cli.db")
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", url)
    return url


def test_migrate_create_community_and_issue_a_key(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-community", "riverside", "Riverside"]) == 0
    assert main(["create-community", "riverside", "Again"]) == 1
    assert "taken" in capsys.readouterr().err
    assert main(["issue-key", "riverside", "--scopes", "read,write"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].startswith("cl_") and "read, write" in printed[0]
    assert main(["issue-key", "riverside", "--scopes", "owner"]) == 1
    assert main(["issue-key", "nowhere"]) == 1


def test_an_invalid_setting_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", "mysql://localhost/ledger")
    assert main(["migrate"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "COMMONS_LEDGER_DATABASE_URL" in error
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", "sqlite+aiosqlite:///x.db")
    monkeypatch.setenv("COMMONS_LEDGER_ADMIN_TOKEN", "short")
    assert main(["migrate"]) == 2
    assert "COMMONS_LEDGER_ADMIN_TOKEN" in capsys.readouterr().err
