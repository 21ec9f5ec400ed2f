"""``commons-ledger export-archive`` and ``import-archive``: a community's complete archive as
JSON Lines, and its restoration into a database without that community.

The archive is a copy of the community's rows, table by table, so it works on the bootstrap's
engine through ``ledger.store.archive`` rather than through a use case."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO

from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.settings import Settings
from ledger.store import archive
from ledger.store.migrate import head_revision


def add_parsers(commands: Subcommands) -> None:
    archive_out = commands.add_parser(
        "export-archive", help="write a community's complete archive (JSON Lines)"
    )
    archive_out.add_argument("slug")
    archive_out.add_argument("--output", default="-", help="a file; default standard output")
    archive_out.set_defaults(run=_export_archive)
    restore = commands.add_parser(
        "import-archive", help="restore an archive into a database without that community"
    )
    restore.add_argument("path")
    restore.set_defaults(run=_import_archive)


@contextmanager
def _output(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with open(path, "wb") as sink:
        yield sink


async def _export_archive(arguments: argparse.Namespace, settings: Settings) -> int:
    with _output(arguments.output) as sink:
        async with migrated(settings) as services:
            lines = archive.export_lines(
                services.engine, arguments.slug, head_revision(), datetime.now(UTC)
            )
            async for line in lines:
                sink.write(line)
    return 0


async def _import_archive(arguments: argparse.Namespace, settings: Settings) -> int:
    with open(arguments.path, "rb") as lines:  # noqa: ASYNC230 - a command, nothing else waits
        async with migrated(settings) as services:
            restored = await archive.import_lines(services.engine, lines, head_revision())
    say(f"Restored community {restored.slug!r}: {sum(restored.rows.values())} rows.")
    return 0
