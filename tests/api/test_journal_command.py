"""``commons-ledger import-journal`` on a throw-away SQLite file: problems or a summary line,
progress on stderr, and a second run that imports nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api.cli.main import main
from ledger.books.service import Ledger, NewAccount
from ledger.kernel.model import AccountType
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.databases import sqlite_url


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_url(tmp_path / "cli.db")
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", url)
    return url


async def _accounts(url: str) -> None:
    engine = create_engine(url)
    try:
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.get_community_by_slug("riverside")
        for code in ("ann", "bob"):
            new = NewAccount(code, code.title(), AccountType.LIABILITY, "HOURS", balance_min=-100)
            await ledger.open_account(community.id, new)
    finally:
        await engine.dispose()


def test_import_journal_names_problems_or_imports_once(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-community", "riverside", "Riverside"]) == 0
    asyncio.run(_accounts(database))
    journal = tmp_path / "history.csv"
    journal.write_text(
        "entry_id,date,description,account_code,amount\n"
        "1,2025-01-05,Fence,ann,90\n1,,,bob,-90\n"
        "2,2025-01-06,Soup,ann,30\n2,,,carl,-30\n"
    )
    capsys.readouterr()
    assert main(["import-journal", "riverside", str(journal)]) == 1
    err = capsys.readouterr().err
    assert "history.csv line 4: no account has the code 'carl'" in err
    assert "1 problems; nothing imported" in err
    journal.write_text(
        "entry_id,date,description,account_code,amount\n1,2025-01-05,Fence,ann,90\n1,,,bob,-90\n"
    )
    assert main(["import-journal", "riverside", str(journal)]) == 0
    err = capsys.readouterr().err
    assert "1/1" in err  # the progress bar's last state
    assert "Imported 1 entries (2 postings) from history.csv" in err
    assert main(["import-journal", "riverside", str(journal)]) == 0
    assert "was already imported (1 entries); nothing imported now" in capsys.readouterr().err
    assert main(["import-journal", "nowhere", str(journal)]) == 1
    assert main(["import-journal", "riverside", str(tmp_path / "missing.csv")]) == 1
