"""``commons-ledger import-journal SLUG FILE``: historical entries in bulk
(``ledger.imports.journal_import``; the file format is in ``ledger.imports.journal_format``)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from ledger.books.service import Ledger
from ledger.imports import journal_format
from ledger.imports.journal_import import JournalImport, JournalRefused, file_digest
from ledger.kernel.clock import utc_now
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.journal_import import SqlJournalWriter

COMMAND = "import-journal"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        COMMAND,
        help="import historical entries (CSV or JSON Lines): every rule checked, then all or none",
    )
    command.add_argument("slug")
    command.add_argument("file", help="CSV (one row per posting) or .jsonl (one entry per line)")


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the import builds its rows: they are millions of
    small objects without cycles, which the collector would otherwise rescan again and again
    as they pile up — half the Python time of a 100k-entry import (``bench.import_journal``).
    Whatever cycles arise meanwhile are collected when it is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def run(uow: SqlUnitOfWorkFactory, arguments: argparse.Namespace) -> int:
    path = Path(arguments.file)
    data = await asyncio.to_thread(path.read_bytes)
    community = await Ledger(uow).get_community_by_slug(arguments.slug)
    importer = JournalImport(uow, SqlJournalWriter.of, utc_now)
    try:
        with collector_paused():
            parsed = journal_format.parse(path.name, data)
            postings = sum(len(entry.postings) for entry in parsed.entries)
            with tqdm(total=len(parsed.entries), unit="entry", file=sys.stderr) as bar:
                summary = await importer.run(community.id, parsed, file_digest(data), bar.update)
    except JournalRefused as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        sys.stderr.write(f"commons-ledger: {len(exc.problems)} problems; nothing imported\n")
        return 1
    if summary.already_imported:
        sys.stderr.write(
            f"{path.name} (sha256 {summary.sha256[:12]}…) was already imported "
            f"({summary.entries} entries); nothing imported now\n"
        )
        return 0
    sys.stderr.write(
        f"Imported {summary.entries} entries ({postings} postings) from {path.name}, "
        f"sha256 {summary.sha256[:12]}…\n"
    )
    return 0
