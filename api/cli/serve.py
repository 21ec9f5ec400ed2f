"""``commons-ledger migrate``, ``serve`` and ``demo``: the schema brought up to date, then (for
``serve`` and ``demo``) the service run by uvicorn until it is stopped."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from api.app import create_app
from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import amount, say
from api.demo.seed import DemoAccess, seed_demo
from api.server import server_choice
from api.settings import Settings
from api.web.settings import WebSettings
from api.workers import WORKER_APP, several_workers


def add_parsers(commands: Subcommands) -> None:
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=_migrate
    )
    for name, text, run in (
        ("serve", "migrate, then run the service", _migrate),
        ("demo", "migrate, seed a demo community, print its tokens, then run the service", _demo),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8000)
        command.add_argument(
            "--workers",
            type=int,
            help="server processes (default COMMONS_LEDGER_WORKERS, 1); see README, Performance",
        )
        command.set_defaults(run=run, serve=True)


async def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    async with migrated(settings):
        pass
    say(f"Database {settings.database_url} is at the latest schema.")
    return 0


async def _demo(arguments: argparse.Namespace, settings: Settings) -> int:
    url = f"http://{arguments.host}:{arguments.port}"
    async with migrated(settings) as services:
        ledger = services.ledger
        community, created = await seed_demo(ledger, services.economy, services.governance)
        tokens = await DemoAccess.issue(services.access, ledger, community)
        accounts = await ledger.list_accounts(community.id)
        scales = {c.code: c.scale for c in await ledger.list_commodities(community.id)}
    state = "created" if created else "already present"
    say(f"Demo community {community.name!r} (slug {community.slug!r}) {state}.")
    for account in accounts:
        balance, scale = account.balance, scales[account.commodity]
        shown = amount(balance.posted, account.commodity, scale)
        pending = amount(balance.pending, account.commodity, scale)
        say(f"  {account.name:<28} {shown:>16}   pending {pending}")
    say()
    say(f"API:      {url}/api/v1/communities/{community.slug}")
    say(f"OpenAPI:  {url}/schema")
    say(f"Treasurer key (all scopes but admin): {tokens.treasurer}")
    for name, token in tokens.members:
        say(f"Member token of {name}: {token}")
    say(f"Member page: {url}/ (sign in with a member token, or open a link below)")
    for name, token in tokens.members:
        say(f"Sign-in link of {name}: {url}/sign-in?token={token}")
    say("These tokens are shown once; `commons-ledger demo` issues fresh ones each run.")
    return 0


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn reads ``X-Forwarded-For``/``-Proto`` only from the proxies ``FORWARDED_ALLOW_IPS``
    names. Its own default trusts 127.0.0.1 — any local process, or a request the service was
    tricked into making, could then pick its client address (the rate limits' and sign-in
    throttle's key) and its scheme (the session cookie's ``Secure`` flag) — so without the
    variable no proxy header is read at all."""
    if settings.forwarded_allow_ips is None:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def run_service(settings: Settings, web: WebSettings, arguments: argparse.Namespace) -> None:
    """Runs the service until it is stopped (outside any event loop: uvicorn starts its own)."""
    choice = server_choice()
    workers = arguments.workers or settings.workers
    if workers < 1:
        raise SystemExit("commons-ledger: --workers must be at least 1")
    say(
        f"Serving on http://{arguments.host}:{arguments.port} "
        f"({choice.describe()}, {workers} worker{'s' if workers > 1 else ''})."
    )
    options: dict[str, Any] = {
        "host": arguments.host,
        "port": arguments.port,
        "loop": choice.loop,
        "http": choice.http,
        "access_log": False,
        # SIGTERM: stop accepting, finish what is in flight (bounded), then close the pool.
        "timeout_graceful_shutdown": settings.shutdown_timeout_s,
        **proxy_options(settings),
    }
    if workers == 1:
        uvicorn.run(create_app(settings, web), **options)
        return
    # Each worker process builds its app from the same environment (api.workers).
    with several_workers(web):
        uvicorn.run(WORKER_APP, factory=True, workers=workers, **options)
