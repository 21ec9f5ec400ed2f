"""``commons-ledger import-csv``: members and historical exchanges from spreadsheets, all rows
or none (``ledger.imports.spreadsheet``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.settings import Settings
from ledger.imports.spreadsheet import SpreadsheetImport


def add_parsers(commands: Subcommands) -> None:
    spreadsheet = commands.add_parser(
        "import-csv",
        help="import members and historical exchanges from CSV: all rows, or none",
    )
    spreadsheet.add_argument("slug")
    spreadsheet.add_argument("--members", help="CSV: name[,hours_min,hours_max]")
    spreadsheet.add_argument(
        "--exchanges", help="CSV: date,provider,receiver,minutes,description[,category]"
    )
    spreadsheet.set_defaults(run=_import_csv)


async def _import_csv(arguments: argparse.Namespace, settings: Settings) -> int:
    sources = {}
    for kind in ("members", "exchanges"):
        path = getattr(arguments, kind)
        if path:
            with open(path, newline="", encoding="utf-8-sig") as text:  # noqa: ASYNC230 - CLI
                sources[kind] = (Path(path).name, text.read().splitlines(keepends=True))
    async with migrated(settings) as services:
        community = await services.ledger.get_community_by_slug(arguments.slug)
        importer = SpreadsheetImport(services.ledger)
        plan = await importer.plan(community.id, sources.get("members"), sources.get("exchanges"))
        if plan.problems:
            for problem in plan.problems:
                sys.stderr.write(f"{problem}\n")
            sys.stderr.write(f"commons-ledger: {len(plan.problems)} bad rows; nothing imported\n")
            return 1
        with tqdm(total=len(plan.members) + len(plan.entries), unit="row", file=sys.stderr) as bar:
            await importer.run(community.id, plan, bar.update)
    say(f"Imported {len(plan.members)} members and {len(plan.entries)} exchanges.")
    return 0
