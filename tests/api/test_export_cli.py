"""``commons-ledger export``: the journal to stdout or to a file written whole, on SQLite."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from beancount import loader

from api.cli.main import main
from ledger.books.service import Ledger
from ledger.kernel.model import NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, create_engine
from reports.exports.files import write_text
from tests.databases import sqlite_url


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_url(tmp_path / "cli.db")
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", url)
    return url


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.get_community_by_slug("riverside")
        ann = await ledger.create_member(community.id, "Ann")
        bob = await ledger.create_member(community.id, "Bob")
        for day, minutes in ((date(2025, 1, 10), 90), (date(2025, 2, 10), 30)):
            postings = (
                PostingSpec(bob.hours_account_id, minutes),
                PostingSpec(ann.hours_account_id, -minutes),
            )
            await ledger.post_entry(
                community.id, NewEntry(postings, "Help", effective_date=day, kind="exchange")
            )
    finally:
        await engine.dispose()


def test_export_to_stdout_and_to_a_file(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-community", "riverside", "Riverside"]) == 0
    asyncio.run(_seed(database))
    capsys.readouterr()
    assert (
        main(["export", "--community", "riverside", "--format", "csv", "--to", "2025-01-31"]) == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert sorted(int(row["amount"]) for row in rows) == [-90, 90]
    target = tmp_path / "books.beancount"
    assert (
        main(["export", "--community", "riverside", "--format", "beancount", "-o", str(target)])
        == 0
    )
    assert capsys.readouterr().out == ""
    _, errors, _ = loader.load_file(str(target))
    assert errors == []
    assert " -120 HOURS.MIN\n" in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".books")) == []


def test_export_refusals(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["create-community", "riverside", "Riverside"]) == 0
    target = tmp_path / "out.csv"
    arguments = ["export", "--community", "nowhere", "--format", "csv", "-o", str(target)]
    assert main(arguments) == 1
    assert not target.exists()
    dates = ["--from", "2025-02-01", "--to", "2025-01-01"]
    assert main(["export", "--community", "riverside", "--format", "csv", *dates]) == 1
    assert "is after" in capsys.readouterr().err


def test_a_failed_export_leaves_the_old_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "journal.csv"
    target.write_text("the previous export\n")

    async def chunks() -> AsyncIterator[str]:
        yield "half of "
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        asyncio.run(write_text(chunks(), target, io.StringIO()))
    assert target.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["journal.csv"]
