"""The operator's community tools: ``create-community``, ``issue-key`` and ``revoke-key``."""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime, timedelta

from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.settings import Settings
from ledger.access.principals import Scope
from ledger.economy.chart import DEFAULT_CURRENCY, TEMPLATES, ChartApplied
from ledger.kernel import errors


def add_parsers(commands: Subcommands) -> None:
    create = commands.add_parser("create-community", help="create a community (operator tool)")
    create.add_argument("slug", help="lowercase letters, digits and inner hyphens")
    create.add_argument("name")
    create.add_argument(
        "--template", choices=sorted(TEMPLATES), help="start with this chart of accounts"
    )
    create.add_argument(
        "--currency", default=DEFAULT_CURRENCY, help="the template's money commodity (EUR)"
    )
    create.set_defaults(run=_create_community)
    issue = commands.add_parser("issue-key", help="issue an API key of a community; printed once")
    issue.add_argument("slug")
    issue.add_argument(
        "--scopes", default="read", help="comma-separated: read, write, treasurer, admin"
    )
    issue.add_argument("--name", default="API key")
    issue.add_argument("--expires-days", type=int, default=None)
    issue.set_defaults(run=_issue_key)
    revoke = commands.add_parser(
        "revoke-key", help="revoke an API key or member token at once (by the id issue-key printed)"
    )
    revoke.add_argument("slug")
    revoke.add_argument("credential_id", type=uuid.UUID)
    revoke.set_defaults(run=_revoke_key)


async def _create_community(arguments: argparse.Namespace, settings: Settings) -> int:
    slug, name, template = arguments.slug, arguments.name, arguments.template
    applied: ChartApplied | None = None
    async with migrated(settings) as services:
        if template is None:
            community = await services.ledger.create_community(slug, name)
        else:
            community, applied = await services.economy.charts.create_community(
                slug, name, template=template, currency=arguments.currency
            )
    say(f"Community {community.slug!r} created (id {community.id}).")
    if applied is not None:
        opened = len(applied.opened)
        say(f"Chart {template!r} in {applied.currency}: {opened} accounts opened.")
    return 0


async def _issue_key(arguments: argparse.Namespace, settings: Settings) -> int:
    try:
        scopes = frozenset(Scope(name.strip()) for name in arguments.scopes.split(","))
    except ValueError:
        raise errors.InvalidInput(
            f"--scopes {arguments.scopes!r}: use read, write, treasurer or admin"
        ) from None
    expires_at = (
        None
        if arguments.expires_days is None
        else datetime.now(UTC) + timedelta(days=arguments.expires_days)
    )
    async with migrated(settings) as services:
        community = await services.ledger.get_community_by_slug(arguments.slug)
        credential, token = await services.access.issue_api_key(
            community.id, arguments.name, scopes, expires_at
        )
    say(f"API key {credential.id} ({', '.join(sorted(scopes))}) for {community.slug!r}:")
    say(token)
    say("Store it now: it is not shown again.")
    return 0


async def _revoke_key(arguments: argparse.Namespace, settings: Settings) -> int:
    slug = arguments.slug
    async with migrated(settings) as services:
        community = await services.ledger.get_community_by_slug(slug)
        credential = await services.access.revoke(community.id, arguments.credential_id)
    say(f"Credential {credential.id} of {slug!r} is revoked (since {credential.revoked_at}).")
    return 0
