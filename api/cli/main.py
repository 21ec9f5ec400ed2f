"""The ``commons-ledger`` command: its subcommands, gathered from their modules, and how one runs.

Every subcommand's handler takes its services from ``api.bootstrap`` (the app's wiring) on a
migrated database; ``serve`` and ``demo`` then run the service."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from api.cli import (
    archive,
    audit,
    communities,
    export,
    federation,
    jobs,
    journal,
    report,
    serve,
    spreadsheet,
    webhooks,
)
from api.federation_settings import FederationSettings
from api.settings import Settings, SettingsError
from api.web.settings import WebSettings
from api.webhook_settings import WebhookSettings
from ledger.kernel import errors

_GROUPS = (
    serve,  # migrate, serve, demo
    communities,  # create-community, issue-key, revoke-key
    export,
    archive,  # export-archive, import-archive
    spreadsheet,  # import-csv
    audit,
    report,  # report, report-snapshots
    jobs,
    journal,
    webhooks,
    federation,  # federation node, invite, accept-invite, deliver, reconcile
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commons-ledger", description="Commons Ledger: books for time-banks and co-ops."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for group in _GROUPS:
        group.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        web_settings = WebSettings.from_env()
        WebhookSettings.from_env()  # an invalid one stops start-up here, naming it
        FederationSettings.from_env()
    except SettingsError as exc:
        sys.stderr.write(f"commons-ledger: {exc}\n")
        return 2
    if getattr(arguments, "serve", False):
        taken = serve.port_taken(arguments.host, arguments.port)
        if taken is not None:
            sys.stderr.write(f"commons-ledger: {taken}\n")
            return 1
    try:
        status: int = asyncio.run(arguments.run(arguments, settings))
    except errors.LedgerError as exc:
        sys.stderr.write(f"commons-ledger: {exc.detail}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"commons-ledger: {exc}\n")
        return 1
    if status == 0 and getattr(arguments, "serve", False):
        serve.run_service(settings, web_settings, arguments)
    return status


if __name__ == "__main__":
    sys.exit(main())
