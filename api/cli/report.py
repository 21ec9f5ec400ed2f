"""``commons-ledger report``: a community's sustainability report for a period, written to a
file as JSON, HTML, PDF or XLSX, with its progress on stderr (the report itself can take a
while on a large community, and the PDF layout more)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import msgspec

from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.settings import Settings
from ledger.books.service import Ledger
from ledger.kernel import errors
from reports.period import Period
from reports.render.html import render_html
from reports.render.pdf import render_pdf
from reports.render.xlsx import render_xlsx
from reports.service import Reports
from reports.timebank import Thresholds
from reports.values import SustainabilityReport

FORMATS: dict[str, Callable[[SustainabilityReport], bytes]] = {
    "json": lambda report: msgspec.json.format(msgspec.json.encode(report), indent=2),
    "html": lambda report: render_html(report).encode(),
    "pdf": render_pdf,
    "xlsx": render_xlsx,
}


def add_parsers(commands: Subcommands) -> None:
    report = commands.add_parser("report", help="write a community's sustainability report")
    report.add_argument("--community", required=True, help="the community's slug")
    report.add_argument("--period", required=True, help="2026-Q3, 2026-09 or 2026")
    report.add_argument(
        "--format", choices=sorted(FORMATS),
        help="default: the output file's extension (.json, .html, .pdf, .xlsx)",
    )  # fmt: skip
    report.add_argument("-o", "--output", required=True, type=Path, help="the file to write")
    report.add_argument(
        "--burnout-minutes", type=int, default=Thresholds().burnout_minutes,
        help="burnout watch: members who gave more minutes than this",
    )  # fmt: skip
    report.set_defaults(run=_report)
    commands.add_parser(
        "report-snapshots",
        help="store the report snapshots of every community's closed month, quarter and year "
        "that are missing (run it daily, e.g. from cron; running it again does nothing)",
    ).set_defaults(run=_snapshots)


async def _snapshots(_: argparse.Namespace, settings: Settings) -> int:
    async with migrated(settings) as services:
        taken = await services.reports.take_all_due_snapshots(datetime.now(UTC).date())
    for slug, row in taken:
        say(f"{slug}: snapshot {row.id} of {row.period_start} – {row.period_end} "
            f"(ledger state {row.fingerprint[:12]})")  # fmt: skip
    say(f"{len(taken)} snapshot(s) taken.")
    return 0


class Progress:
    """A one-line progress bar on a terminal; one line per step otherwise (logs, pipes)."""

    WIDTH = 24

    def __init__(self, steps: int, stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr  # looked up now: tests and callers may swap sys.stderr
        self._steps, self._done, self._stream = steps, 0, stream
        self._live = stream.isatty()

    def step(self, what: str) -> None:
        self._done += 1
        filled = self.WIDTH * self._done // self._steps
        bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self._done}/{self._steps} {what}"
        if self._live:
            end = "\n" if self._done == self._steps else ""
            self._stream.write(f"\r\x1b[2K{bar}{end}")
        else:
            self._stream.write(bar + "\n")
        self._stream.flush()


def output_format(output: Path, given: str | None) -> str:
    """The format to write ``output`` in: ``given``, else the file's extension; a file whose
    extension names another format than ``given`` is refused (``invalid_input``), so that
    ``-o future.json`` never silently holds a PDF."""
    extension = output.suffix.lower().removeprefix(".")
    named = extension if extension in FORMATS else None
    if given is None and named is None:
        raise errors.InvalidInput(
            f"cannot tell the format from {output.name!r}: end the file name in "
            f"{', '.join('.' + name for name in sorted(FORMATS))}, or give --format"
        )
    if given is not None and named is not None and given != named:
        raise errors.InvalidInput(
            f"{output.name!r} names a .{named} file but --format is {given}: "
            f"rename the file or drop --format"
        )
    chosen = given or named
    assert chosen is not None
    return chosen


async def _report(arguments: argparse.Namespace, settings: Settings) -> int:
    arguments.format = output_format(arguments.output, arguments.format)
    async with migrated(settings) as services:
        await _write(arguments, services.ledger, services.reports)
    return 0


async def _write(arguments: argparse.Namespace, ledger: Ledger, reports: Reports) -> None:
    """Raises ``LedgerError`` for an unknown community or a malformed period."""
    progress = Progress(4)
    period = Period.parse(arguments.period)
    community = await ledger.get_community_by_slug(arguments.community)
    progress.step(f"reading the books of {community.slug} for {period.label}")
    thresholds = Thresholds(burnout_minutes=arguments.burnout_minutes)
    report = await reports.sustainability(community, period, thresholds)
    progress.step(f"report built (ledger state {report.fingerprint[:12]})")
    content = await asyncio.to_thread(FORMATS[arguments.format], report)
    progress.step(f"rendered as {arguments.format} ({len(content):,} bytes)")
    arguments.output.write_bytes(content)
    progress.step(f"written to {arguments.output}")
