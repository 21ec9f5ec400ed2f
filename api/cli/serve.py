"""``commons-ledger migrate``, ``serve`` and ``demo``: the schema brought up to date, then (for
``serve`` and ``demo``) the service run by uvicorn until it is stopped."""

from __future__ import annotations

import argparse
import errno
import socket
from collections.abc import Sequence
from typing import Any

import uvicorn

from api.app import create_app
from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.demo.federation import DemoLink, seed_demo_federation
from api.demo.seed import DemoAccess, seed_demo
from api.server import server_choice, settled
from api.settings import Settings
from api.web.settings import WebSettings
from api.workers import HEALTHCHECK_S, WORKER_APP, several_workers
from ledger.kernel.model import Account
from ledger.kernel.quantity import Units, show, unit_for, units_of


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


def balance_lines(accounts: Sequence[Account], units: Units) -> list[str]:
    """Each account's name, balance and pending amount as aligned columns, as wide as the longest
    name and balance (``Clearing with Hilltop Commons (demo) (HOURS)`` once pushed its balance
    out of line)."""
    rows = [
        (a.name, show(a.balance.posted, unit), show(a.balance.pending, unit))
        for a in accounts
        for unit in (unit_for(a.commodity, units),)
    ]
    name_width = max((len(name) for name, _, _ in rows), default=0)
    shown_width = max((len(shown) for _, shown, _ in rows), default=0)
    return [
        f"  {name:<{name_width}}  {shown:>{shown_width}}   pending {pending}"
        for name, shown, pending in rows
    ]


async def _demo(arguments: argparse.Namespace, settings: Settings) -> int:
    url = f"http://{arguments.host}:{arguments.port}"
    async with migrated(settings) as services:
        ledger = services.ledger
        community, created = await seed_demo(ledger, services.economy, services.governance)
        linked = await seed_demo_federation(
            ledger, services.governance, services.federation, community
        )
        tokens = await DemoAccess.issue(
            services.access, ledger, community, services.governance.roles.current_role_names
        )
        accounts = await ledger.list_accounts(community.id)
        units = units_of(await ledger.list_commodities(community.id))
    state = "created" if created else "already present"
    say(f"Demo community {community.name!r} (slug {community.slug!r}) {state}.")
    for line in balance_lines(accounts, units):
        say(line)
    say()
    _say_federation(linked, units)
    say()
    say(f"API:      {url}/api/v1/communities/{community.slug}")
    say(f"OpenAPI:  {url}/schema")
    say(f"Treasurer key (all scopes but admin): {tokens.treasurer}")
    for member in tokens.members:
        say(f"Member token of {member.name} ({member.says}): {member.token}")
    say(f"Member page: {url}/ (sign in with a member token, or open a link below)")
    for member in tokens.members:
        say(f"Sign-in link of {member.name}: {url}/sign-in?token={member.token}")
    say("These tokens are shown once; `commons-ledger demo` issues fresh ones each run.")
    return 0


def _say_federation(linked: DemoLink, units: Units) -> None:
    state = f"seeded with {linked.transfers} cross transfers" if linked.created else "present"
    say(f"Linked community {linked.partner.name!r} (slug {linked.partner.slug!r}) {state}.")
    for terms in linked.link.versions[-1].commodities:
        say(
            f"  Link {linked.link.id} ({linked.link.status}): {terms.commodity} at "
            f"{terms.rate.numerator}:{terms.rate.denominator}, we may owe "
            f"{show(terms.limit_we_owe, unit_for(terms.commodity, units))}, they may owe "
            f"{show(terms.limit_they_owe, unit_for(terms.commodity, units))}"
        )
    say(f"  A payer here:  {linked.example_payer.name} {linked.example_payer.id}")
    say(f"  A payee there: {linked.example_payee.name} {linked.example_payee.id}")


def port_taken(host: str, port: int) -> str | None:
    """Why the service could not listen on ``host``:``port``, in the operator's words, or None.
    Checked before migrating and seeding, so that a second server on a busy port stops at once
    with one line instead of uvicorn's raw ``[Errno 98]`` after the demo printed its tokens."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot listen on host {host!r}: {exc.strerror}; choose another with --host"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (is another commons-ledger "
                    f"running?); stop that server, or choose another port with --port {port + 1}"
                )
            return f"cannot listen on {host}:{port}: {exc.strerror}; choose another with --port"
    return None


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
        uvicorn.run(settled(create_app(settings, web)), **options)
        return
    # Each worker process builds its app from the same environment (api.workers).
    with several_workers(web):
        uvicorn.run(
            WORKER_APP,
            factory=True,
            workers=workers,
            timeout_worker_healthcheck=HEALTHCHECK_S,
            **options,
        )
