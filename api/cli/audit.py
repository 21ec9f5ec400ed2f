"""``commons-ledger audit verify``: checks a community's hash chain of audit records."""

from __future__ import annotations

import argparse

from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    audit = commands.add_parser("audit", help="the audit trail of a community")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain; exit 1 naming the first broken link"
    )
    verify.add_argument("--community", required=True, metavar="SLUG")
    verify.set_defaults(run=_verify)


async def _verify(arguments: argparse.Namespace, settings: Settings) -> int:
    slug = arguments.community
    async with migrated(settings) as services:
        community = await services.ledger.get_community_by_slug(slug)
        verification = await services.audit.verify(community.id)
    if verification.broken is None:
        say(f"Audit trail of {slug!r}: {verification.records} records, the chain is intact.")
        return 0
    broken = verification.broken
    say(f"Audit trail of {slug!r}: BROKEN at record {broken.seq}: {broken.reason}.")
    say(f"The {verification.records} records before it are intact.")
    return 1
