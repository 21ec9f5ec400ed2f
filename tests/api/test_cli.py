"""The operator's command line, on a throw-away SQLite file."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.cli.main import main
from ledger.access.credentials import Access
from ledger.books.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
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


def test_audit_verify_names_the_first_broken_link(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-community", "riverside", "Riverside"]) == 0
    asyncio.run(_two_members(database))
    capsys.readouterr()
    assert main(["audit", "verify", "--community", "riverside"]) == 0
    assert "3 records, the chain is intact" in capsys.readouterr().out
    # Someone with write access to the file drops the guard and edits the first record.
    asyncio.run(
        _raw(
            database,
            "DROP TRIGGER audit_log_no_update",
            "UPDATE audit_log SET role = 'member' WHERE seq = 1",
        )
    )
    assert main(["audit", "verify", "--community", "riverside"]) == 1
    out = capsys.readouterr().out
    assert "BROKEN at record 1" in out and "no longer matches its hash" in out
    assert main(["audit", "verify", "--community", "nowhere"]) == 1


async def _two_members(url: str) -> None:
    engine = create_engine(url)
    try:
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.get_community_by_slug("riverside")
        for name in ("Ann", "Bob"):
            await ledger.create_member(community.id, name)
    finally:
        await engine.dispose()


async def _raw(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


def test_export_and_import_an_archive(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["create-community", "riverside", "Riverside"]) == 0
    asyncio.run(_two_members(database))
    archive = tmp_path / "riverside.jsonl"
    assert main(["export-archive", "riverside", "--output", str(archive)]) == 0
    lines = archive.read_text().splitlines()
    # header, community, HOURS, 2 members, their accounts, 3 audit records (the community's
    # creation, the members), the chain head, 2 events (member.created), footer
    assert len(lines) == 1 + 1 + 1 + 2 + 2 + 3 + 1 + 2 + 1
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", sqlite_url(tmp_path / "restored.db"))
    capsys.readouterr()
    assert main(["import-archive", str(archive)]) == 0
    assert "Restored community 'riverside'" in capsys.readouterr().out
    assert main(["audit", "verify", "--community", "riverside"]) == 0
    assert main(["import-archive", str(archive)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["import-archive", str(tmp_path / "missing.jsonl")]) == 1


def test_import_csv_reports_bad_rows_or_imports_everything(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-community", "riverside", "Riverside"]) == 0
    members, exchanges = tmp_path / "members.csv", tmp_path / "exchanges.csv"
    members.write_text("name,hours_min\nAnn,-600\nBob,\n")
    exchanges.write_text(
        "date,provider,receiver,minutes,description\n"
        "2026-01-05,Ann,Bob,90,Fence\n"
        "2026-01-06,Bob,Carl,30,Soup\n"
        "2026-01-07,Bob,Ann,x,Soup\n"
    )
    arguments = ["import-csv", "riverside", "--members", str(members)]
    arguments += ["--exchanges", str(exchanges)]
    capsys.readouterr()
    assert main(arguments) == 1
    err = capsys.readouterr().err
    assert "exchanges.csv line 3: no single member is named 'Carl'" in err
    assert "exchanges.csv line 4: minutes 'x' is not a whole number" in err
    assert "2 bad rows; nothing imported" in err
    exchanges.write_text(
        "date,provider,receiver,minutes,description\n2026-01-05,Ann,Bob,90,Fence\n"
    )
    assert main(arguments) == 0
    captured = capsys.readouterr()
    assert "Imported 2 members and 1 exchanges." in captured.out
    assert "3/3" in captured.err  # the progress bar's last state
    assert main(arguments) == 1  # Ann and Bob exist now
    assert "a member named 'Ann' exists" in capsys.readouterr().err


def test_a_revoked_key_stops_working(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["create-community", "riverside", "Riverside"]) == 0
    assert main(["issue-key", "riverside", "--scopes", "treasurer"]) == 0
    heading, token = capsys.readouterr().out.splitlines()[1:3]
    credential_id = heading.split()[2]
    assert asyncio.run(_authenticates(database, token))
    assert main(["revoke-key", "riverside", credential_id]) == 0
    assert "revoked" in capsys.readouterr().out
    assert not asyncio.run(_authenticates(database, token))
    assert main(["revoke-key", "riverside", "01a20ef6-c6f4-7d0d-b07a-a72ea06be4fd"]) == 1


async def _authenticates(url: str, token: str) -> bool:
    engine = create_engine(url)
    try:
        return await Access(SqlUnitOfWorkFactory(engine)).authenticate(token) is not None
    finally:
        await engine.dispose()


def test_a_busy_port_is_named_with_how_to_choose_another(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"port {port} on 127.0.0.1 is already in use" in error
    assert f"--port {port + 1}" in error
    assert "Errno" not in error
