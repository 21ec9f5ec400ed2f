"""``commons-ledger report`` on a throw-away SQLite file holding the fixed books."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from api.cli.main import main
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.databases import sqlite_url
from tests.reports.ledgers import fixed_books


async def _seed(url: str) -> str:
    engine = create_engine(url)
    try:
        return (await fixed_books(SqlUnitOfWorkFactory(engine))).community.slug
    finally:
        await engine.dispose()


@pytest.fixture
def slug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_url(tmp_path / "cli.db")
    monkeypatch.setenv("COMMONS_LEDGER_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    return asyncio.run(_seed(url))


def test_json_and_pdf(slug: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q3.json"
    base = ["report", "--community", slug, "--period", "2026-Q3"]
    assert main([*base, "--format", "json", "-o", str(out), "--burnout-minutes", "300"]) == 0
    report = json.loads(out.read_text())
    assert report["period"]["label"] == "2026-Q3"
    assert report["financial"]["income_statements"][0]["net"]["current"] == 30_000
    assert [m["name"] for m in report["time_bank"]["burnout_watch"]] == ["Bob"]
    progress = capsys.readouterr().err.splitlines()
    assert len(progress) == 4 and progress[-1].startswith("[" + "#" * 24 + "] 4/4 written to")

    pdf = tmp_path / "q3.pdf"
    assert main([*base, "-o", str(pdf)]) == 0
    text = PdfReader(pdf).pages[0].extract_text()
    assert "Sustainability report" in text and "2026-Q3" in text


def test_refusals(slug: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.json"
    assert main(["report", "--community", slug, "--period", "2026-Q5", "-o", str(out)]) == 1
    assert "2026-Q5" in capsys.readouterr().err
    assert main(["report", "--community", "nowhere", "--period", "2026", "-o", str(out)]) == 1
    assert not out.exists()


def test_the_format_follows_the_file_name(
    slug: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["report", "--community", slug, "--period", "2026-Q3"]
    out = tmp_path / "future.json"
    assert main([*base, "-o", str(out)]) == 0
    assert json.loads(out.read_text())["period"]["label"] == "2026-Q3"
    html = tmp_path / "q3.HTML"
    assert main([*base, "-o", str(html)]) == 0
    assert html.read_text().startswith("<!DOCTYPE html>")
    mismatch = tmp_path / "q3.json.pdf"
    assert main([*base, "--format", "json", "-o", str(mismatch)]) == 1
    error = capsys.readouterr().err
    assert "names a .pdf file but --format is json" in error
    assert main([*base, "-o", str(tmp_path / "q3.txt")]) == 1
    assert "cannot tell the format from 'q3.txt'" in capsys.readouterr().err
    assert not mismatch.exists() and not (tmp_path / "q3.txt").exists()


def test_report_snapshots(slug: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report-snapshots"]) == 0
    first = capsys.readouterr().out
    # The fixed books' community: last month, quarter and year (dates depend on today).
    assert first.count(f"{slug}: snapshot ") == 3 and "3 snapshot(s) taken." in first
    assert main(["report-snapshots"]) == 0
    assert "0 snapshot(s) taken." in capsys.readouterr().out
