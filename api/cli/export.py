"""``commons-ledger export``: a community's journal in a format other tools read."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from api.bootstrap import migrated
from api.cli import Subcommands
from api.settings import Settings
from ledger.kernel import errors
from reports.exports.files import write_text
from reports.exports.journal import ExportFormat, range_problem
from reports.queries.journal import DateRange


def add_parsers(commands: Subcommands) -> None:
    export = commands.add_parser("export", help="write a community's journal for other tools")
    export.add_argument("--community", required=True, metavar="SLUG")
    export.add_argument("--format", required=True, choices=[f.value for f in ExportFormat])
    export.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("-o", "--output", type=Path, help="file to write whole (default: stdout)")
    export.set_defaults(run=_export)


async def _export(arguments: argparse.Namespace, settings: Settings) -> int:
    dates = DateRange(arguments.start, arguments.end)
    if problem := range_problem(dates):
        raise errors.InvalidInput(problem)
    async with migrated(settings) as services:
        community = await services.ledger.get_community_by_slug(arguments.community)
        export_format = ExportFormat(arguments.format)
        chunks = services.exports.stream(community.id, export_format, dates)
        await write_text(chunks, arguments.output, sys.stdout)
    return 0
