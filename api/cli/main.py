"""The ``commons-ledger`` command: ``migrate``, ``serve`` and ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import uvicorn
from tqdm import tqdm

from api.app import create_app
from api.cli import jobs as jobs_command
from api.cli import journal as journal_command
from api.cli import report as report_command
from api.demo.seed import DemoAccess, seed_demo
from api.jobs import service_jobs
from api.server import server_choice
from api.settings import Settings, SettingsError
from api.web.settings import WebSettings
from api.webhook_settings import WebhookSettings
from api.workers import WORKER_APP, several_workers
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.audit.trail import AuditTrail
from ledger.books.service import Ledger, utc_now
from ledger.economy.chart import DEFAULT_CURRENCY, TEMPLATES
from ledger.economy.service import Economy
from ledger.events.delivery import Deliverer
from ledger.governance.service import Governance
from ledger.governance.units import Units
from ledger.imports.spreadsheet import SpreadsheetImport
from ledger.jobs.runner import JobRunner
from ledger.kernel import errors
from ledger.kernel.model import HOURS
from ledger.store import SqlUnitOfWorkFactory, archive, create_engine
from ledger.store.economy import SqlEconomyStore
from ledger.store.events import SqlEventStore
from ledger.store.governance import SqlGovernanceStore
from ledger.store.jobs import SqlJobClaims
from ledger.store.migrate import head_revision, upgrade
from ledger.store.webhooks import SqlWebhookStore
from reports.exports.files import write_text
from reports.exports.journal import ExportFormat, JournalExports, range_problem
from reports.queries.journal import DateRange
from reports.service import Reports


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _amount(amount: int, commodity: str, scale: int) -> str:
    """An integer amount for people: minutes as hours and minutes, money with its decimals."""
    sign = "-" if amount < 0 else ""
    if commodity == HOURS:
        hours, minutes = divmod(abs(amount), 60)
        return f"{sign}{hours} h {minutes:02d} min"
    whole, fraction = divmod(abs(amount), 10**scale)
    decimals = f".{fraction:0{scale}d}" if scale else ""
    return f"{sign}{whole:,}{decimals} {commodity}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commons-ledger", description="Commons Ledger: books for time-banks and co-ops."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema up to date")
    create = commands.add_parser("create-community", help="create a community (operator tool)")
    create.add_argument("slug", help="lowercase letters, digits and inner hyphens")
    create.add_argument("name")
    create.add_argument(
        "--template", choices=sorted(TEMPLATES), help="start with this chart of accounts"
    )
    create.add_argument(
        "--currency", default=DEFAULT_CURRENCY, help="the template's money commodity (EUR)"
    )
    issue = commands.add_parser("issue-key", help="issue an API key of a community; printed once")
    issue.add_argument("slug")
    issue.add_argument(
        "--scopes", default="read", help="comma-separated: read, write, treasurer, admin"
    )
    issue.add_argument("--name", default="API key")
    issue.add_argument("--expires-days", type=int, default=None)
    export = commands.add_parser("export", help="write a community's journal for other tools")
    export.add_argument("--community", required=True, metavar="SLUG")
    export.add_argument("--format", required=True, choices=[f.value for f in ExportFormat])
    export.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("-o", "--output", type=Path, help="file to write whole (default: stdout)")
    revoke = commands.add_parser(
        "revoke-key", help="revoke an API key or member token at once (by the id issue-key printed)"
    )
    revoke.add_argument("slug")
    revoke.add_argument("credential_id", type=uuid.UUID)
    archive_out = commands.add_parser(
        "export-archive", help="write a community's complete archive (JSON Lines)"
    )
    archive_out.add_argument("slug")
    archive_out.add_argument("--output", default="-", help="a file; default standard output")
    restore = commands.add_parser(
        "import-archive", help="restore an archive into a database without that community"
    )
    restore.add_argument("path")
    spreadsheet = commands.add_parser(
        "import-csv",
        help="import members and historical exchanges from CSV: all rows, or none",
    )
    spreadsheet.add_argument("slug")
    spreadsheet.add_argument("--members", help="CSV: name[,hours_min,hours_max]")
    spreadsheet.add_argument(
        "--exchanges", help="CSV: date,provider,receiver,minutes,description[,category]"
    )
    audit = commands.add_parser("audit", help="the audit trail of a community")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain; exit 1 naming the first broken link"
    )
    verify.add_argument("--community", required=True, metavar="SLUG")
    for name, text in (
        ("serve", "migrate, then run the service"),
        ("demo", "migrate, seed a demo community, print its tokens, then run the service"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8000)
        command.add_argument(
            "--workers",
            type=int,
            help="server processes (default COMMONS_LEDGER_WORKERS, 1); see README, Performance",
        )
    report_command.add_parser(commands)
    report_command.add_snapshot_parser(commands)
    jobs_command.add_parser(commands)
    journal_command.add_parser(commands)
    commands.add_parser(
        "deliver-webhooks", help="send the due webhook events once (for cron, or a service "
        "run with COMMONS_LEDGER_WEBHOOK_POLL_MS=0)"
    )  # fmt: skip
    return parser


async def _migrate(settings: Settings) -> None:
    async with _services(settings):
        pass


async def _demo(settings: Settings, url: str) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        ledger, access = Ledger(uow), Access(uow)
        community, created = await seed_demo(ledger, Economy(uow, SqlEconomyStore))
        tokens = await DemoAccess.issue(access, ledger, community)
        accounts = await ledger.list_accounts(community.id)
        scales = {c.code: c.scale for c in await ledger.list_commodities(community.id)}
    finally:
        await engine.dispose()
    state = "created" if created else "already present"
    _say(f"Demo community {community.name!r} (slug {community.slug!r}) {state}.")
    for account in accounts:
        balance = account.balance
        shown = _amount(balance.posted, account.commodity, scales[account.commodity])
        pending = _amount(balance.pending, account.commodity, scales[account.commodity])
        _say(f"  {account.name:<28} {shown:>16}   pending {pending}")
    _say()
    _say(f"API:      {url}/api/v1/communities/{community.slug}")
    _say(f"OpenAPI:  {url}/schema")
    _say(f"Treasurer key (all scopes but admin): {tokens.treasurer}")
    for name, token in tokens.members:
        _say(f"Member token of {name}: {token}")
    _say(f"Member page: {url}/ (sign in with a member token, or open a link below)")
    for name, token in tokens.members:
        _say(f"Sign-in link of {name}: {url}/sign-in?token={token}")
    _say("These tokens are shown once; `commons-ledger demo` issues fresh ones each run.")


async def _create_community(settings: Settings, arguments: argparse.Namespace) -> None:
    slug, name, template = arguments.slug, arguments.name, arguments.template
    if template is None:
        async with _services(settings) as (ledger, _):
            community = await ledger.create_community(slug, name)
        _say(f"Community {community.slug!r} created (id {community.id}).")
        return
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        economy = Economy(SqlUnitOfWorkFactory(engine), SqlEconomyStore)
        community, applied = await economy.charts.create_community(
            slug, name, template=template, currency=arguments.currency
        )
    finally:
        await engine.dispose()
    _say(f"Community {community.slug!r} created (id {community.id}).")
    if applied is not None:
        opened = len(applied.opened)
        _say(f"Chart {template!r} in {applied.currency}: {opened} accounts opened.")


async def _issue_key(settings: Settings, arguments: argparse.Namespace) -> None:
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
    async with _services(settings) as (ledger, access):
        community = await ledger.get_community_by_slug(arguments.slug)
        credential, token = await access.issue_api_key(
            community.id, arguments.name, scopes, expires_at
        )
    _say(f"API key {credential.id} ({', '.join(sorted(scopes))}) for {community.slug!r}:")
    _say(token)
    _say("Store it now: it is not shown again.")


async def _export(settings: Settings, arguments: argparse.Namespace) -> None:
    dates = DateRange(arguments.start, arguments.end)
    if problem := range_problem(dates):
        raise errors.InvalidInput(problem)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        community = await Ledger(uow).get_community_by_slug(arguments.community)
        export_format = ExportFormat(arguments.format)
        chunks = JournalExports(uow).stream(community.id, export_format, dates)
        await write_text(chunks, arguments.output, sys.stdout)
    finally:
        await engine.dispose()


async def _report(settings: Settings, arguments: argparse.Namespace) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        if arguments.command == "report-snapshots":
            await report_command.run_snapshots(Reports(uow), datetime.now(UTC).date(), _say)
        else:
            await report_command.run(arguments, Ledger(uow), Reports(uow))
    finally:
        await engine.dispose()


async def _run_jobs(settings: Settings, arguments: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        governance = Governance.over(Units(uow, SqlGovernanceStore.of, utc_now), Ledger(uow))
        jobs = service_jobs(Reports(uow), governance, Economy(uow, SqlEconomyStore))
        runner = JobRunner(SqlJobClaims(engine), jobs)
        return await jobs_command.run(arguments, runner, _say)
    finally:
        await engine.dispose()


async def _revoke_key(settings: Settings, slug: str, credential_id: uuid.UUID) -> None:
    async with _services(settings) as (ledger, access):
        community = await ledger.get_community_by_slug(slug)
        credential = await access.revoke(community.id, credential_id)
    _say(f"Credential {credential.id} of {slug!r} is revoked (since {credential.revoked_at}).")


async def _verify_audit(settings: Settings, slug: str) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        community = await Ledger(uow).get_community_by_slug(slug)
        verification = await AuditTrail(uow).verify(community.id)
    finally:
        await engine.dispose()
    if verification.broken is None:
        _say(f"Audit trail of {slug!r}: {verification.records} records, the chain is intact.")
        return 0
    broken = verification.broken
    _say(f"Audit trail of {slug!r}: BROKEN at record {broken.seq}: {broken.reason}.")
    _say(f"The {verification.records} records before it are intact.")
    return 1


async def _export_archive(settings: Settings, slug: str, sink: BinaryIO) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async for line in archive.export_lines(engine, slug, head_revision(), datetime.now(UTC)):
            sink.write(line)
    finally:
        await engine.dispose()
    return 0


async def _import_archive(settings: Settings, lines: Iterable[bytes]) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        restored = await archive.import_lines(engine, lines, head_revision())
    finally:
        await engine.dispose()
    _say(f"Restored community {restored.slug!r}: {sum(restored.rows.values())} rows.")
    return 0


async def _import_csv(settings: Settings, arguments: argparse.Namespace) -> int:
    sources = {}
    for kind in ("members", "exchanges"):
        path = getattr(arguments, kind)
        if path:
            with open(path, newline="", encoding="utf-8-sig") as text:  # noqa: ASYNC230 - CLI
                sources[kind] = (Path(path).name, text.read().splitlines(keepends=True))
    async with _services(settings) as (ledger, _):
        community = await ledger.get_community_by_slug(arguments.slug)
        importer = SpreadsheetImport(ledger)
        plan = await importer.plan(community.id, sources.get("members"), sources.get("exchanges"))
        if plan.problems:
            for problem in plan.problems:
                sys.stderr.write(f"{problem}\n")
            sys.stderr.write(f"commons-ledger: {len(plan.problems)} bad rows; nothing imported\n")
            return 1
        with tqdm(total=len(plan.members) + len(plan.entries), unit="row", file=sys.stderr) as bar:
            await importer.run(community.id, plan, bar.update)
    _say(f"Imported {len(plan.members)} members and {len(plan.entries)} exchanges.")
    return 0


async def _import_journal(settings: Settings, arguments: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        return await journal_command.run(SqlUnitOfWorkFactory(engine), arguments)
    finally:
        await engine.dispose()


@contextmanager
def _output(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with open(path, "wb") as sink:
        yield sink


async def _deliver_webhooks(settings: Settings, webhook_settings: WebhookSettings) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        deliverer = Deliverer(
            SqlUnitOfWorkFactory(engine),
            SqlWebhookStore,
            SqlEventStore,
            utc_now,
            config=webhook_settings.delivery(),
        )
        attempts = await deliverer.deliver_due()
    finally:
        await engine.dispose()
    _say(f"{attempts} webhook delivery attempts.")
    return 0


@asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator[tuple[Ledger, Access]]:
    """The use cases on a migrated database, disposed of afterwards."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        yield Ledger(uow), Access(uow)
    finally:
        await engine.dispose()


_OPERATIONS = (
    "export-archive",
    "import-archive",
    "revoke-key",
    "import-csv",
    journal_command.COMMAND,
    "audit",
    "run-jobs",
    "deliver-webhooks",
)


def _operation(settings: Settings, arguments: argparse.Namespace) -> int:
    """The operator's tools: backups, imports, key revocation and the audit check."""
    if arguments.command == "export-archive":
        with _output(arguments.output) as sink:
            return asyncio.run(_export_archive(settings, arguments.slug, sink))
    if arguments.command == "import-archive":
        with open(arguments.path, "rb") as lines:
            return asyncio.run(_import_archive(settings, lines))
    if arguments.command == "revoke-key":
        asyncio.run(_revoke_key(settings, arguments.slug, arguments.credential_id))
        return 0
    if arguments.command == "import-csv":
        return asyncio.run(_import_csv(settings, arguments))
    if arguments.command == journal_command.COMMAND:
        return asyncio.run(_import_journal(settings, arguments))
    if arguments.command == "run-jobs":
        return asyncio.run(_run_jobs(settings, arguments))
    if arguments.command == "deliver-webhooks":
        return asyncio.run(_deliver_webhooks(settings, WebhookSettings.from_env()))
    return asyncio.run(_verify_audit(settings, arguments.community))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        web_settings = WebSettings.from_env()
        WebhookSettings.from_env()  # an invalid one stops start-up here, naming it
    except SettingsError as exc:
        sys.stderr.write(f"commons-ledger: {exc}\n")
        return 2
    try:
        if arguments.command == "create-community":
            asyncio.run(_create_community(settings, arguments))
            return 0
        if arguments.command == "issue-key":
            asyncio.run(_issue_key(settings, arguments))
            return 0
        if arguments.command == "export":
            asyncio.run(_export(settings, arguments))
            return 0
        if arguments.command in ("report", "report-snapshots"):
            asyncio.run(_report(settings, arguments))
            return 0
        if arguments.command in _OPERATIONS:
            return _operation(settings, arguments)
    except errors.LedgerError as exc:
        sys.stderr.write(f"commons-ledger: {exc.detail}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"commons-ledger: {exc}\n")
        return 1
    if arguments.command == "demo":
        asyncio.run(_demo(settings, f"http://{arguments.host}:{arguments.port}"))
    else:
        asyncio.run(_migrate(settings))
        _say(f"Database {settings.database_url} is at the latest schema.")
    if arguments.command in ("serve", "demo"):
        _serve(settings, web_settings, arguments)
    return 0


def _serve(settings: Settings, web: WebSettings, arguments: argparse.Namespace) -> None:
    choice = server_choice()
    workers = arguments.workers or settings.workers
    if workers < 1:
        raise SystemExit("commons-ledger: --workers must be at least 1")
    _say(
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
    }
    if workers == 1:
        uvicorn.run(create_app(settings, web), **options)
        return
    # Each worker process builds its app from the same environment (api.workers).
    with several_workers(web):
        uvicorn.run(WORKER_APP, factory=True, workers=workers, **options)


if __name__ == "__main__":
    sys.exit(main())
