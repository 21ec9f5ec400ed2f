"""``commons-ledger deliver-webhooks``: sends the due webhook events once."""

from __future__ import annotations

import argparse

from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    commands.add_parser(
        "deliver-webhooks", help="send the due webhook events once (for cron, or a service "
        "run with COMMONS_LEDGER_WEBHOOK_POLL_MS=0)"
    ).set_defaults(run=_deliver)  # fmt: skip


async def _deliver(_: argparse.Namespace, settings: Settings) -> int:
    async with migrated(settings) as services:
        attempts = await services.deliverer.deliver_due()
    say(f"{attempts} webhook delivery attempts.")
    return 0
