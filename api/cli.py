"""The ``commons-ledger`` command: ``migrate``, ``serve`` and ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import uvicorn

from api.app import create_app
from api.demo import DemoAccess, seed_demo
from api.settings import Settings, SettingsError
from ledger.credentials import Access
from ledger.model import HOURS
from ledger.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commons-ledger", description="Commons Ledger: books for time-banks and co-ops."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema up to date")
    for name, text in (
        ("serve", "migrate, then run the service"),
        ("demo", "migrate, seed a demo community, print its tokens, then run the service"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8000)
    return parser


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _demo(settings: Settings, url: str) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(uow)
        community, created = await seed_demo(ledger)
        access: DemoAccess = await DemoAccess.issue(Access(uow), ledger, community)
        state = "created" if created else "already present"
        _say(f"Demo community {community.name!r} (slug {community.slug!r}) {state}.")
        for account in await ledger.list_accounts(community.id):
            unit = "min" if account.commodity == HOURS else account.commodity
            balance = account.balance
            _say(
                f"  {account.name:<34} {balance.posted:>8} {unit:<4} (pending {balance.pending:+d})"
            )
        _say()
        _say(f"API:      {url}/api/v1/communities/{community.slug}")
        _say(f"OpenAPI:  {url}/schema")
        _say(f"Treasurer key (all scopes but admin): {access.treasurer}")
        for name, token in access.members:
            _say(f"Member token of {name}: {token}")
        _say("These tokens are shown once; `commons-ledger demo` issues fresh ones each run.")
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.stderr.write(f"commons-ledger: {exc}\n")
        return 2
    if arguments.command == "demo":
        asyncio.run(_demo(settings, f"http://{arguments.host}:{arguments.port}"))
    else:
        asyncio.run(_migrate(settings))
        _say(f"Database {settings.database_url} is at the latest schema.")
    if arguments.command in ("serve", "demo"):
        uvicorn.run(
            create_app(settings), host=arguments.host, port=arguments.port, access_log=False
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
