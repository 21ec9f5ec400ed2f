"""The ``commons-ledger`` command: ``migrate``, ``serve`` and ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from api.demo import seed_demo
from api.settings import Settings, SettingsError
from ledger.model import HOURS
from ledger.service import Ledger
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.migrate import upgrade

API_PENDING = (
    "The HTTP API is not built yet (it arrives with the API issue); "
    "the database is migrated and ready."
)


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commons-ledger", description="Commons Ledger: books for time-banks and co-ops."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema up to date")
    for name, text in (
        ("serve", "migrate, then run the service"),
        ("demo", "migrate, seed a demo community, then run the service"),
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


async def _demo(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community, created = await seed_demo(ledger)
        _say(
            f"Demo community {community.name!r} (slug {community.slug!r}) "
            f"{'created' if created else 'already present'} in {settings.database_url}"
        )
        for account in await ledger.list_accounts(community.id):
            balance = account.balance
            unit = "min" if account.commodity == HOURS else account.commodity
            _say(
                f"  {account.name:<34} {balance.posted:>8} {unit:<4} (pending {balance.pending:+d})"
            )
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
        asyncio.run(_demo(settings))
    else:
        asyncio.run(_migrate(settings))
        _say(f"Database {settings.database_url} is at the latest schema.")
    if arguments.command in ("serve", "demo"):
        _say(API_PENDING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
