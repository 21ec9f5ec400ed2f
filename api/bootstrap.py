"""The composition root: settings → engine → every service, for the app and every CLI command.

This is the one module outside ``ledger.store`` that names its adapters (the SQL stores); the
app (``api.app``) and the command line (``api.cli``) take the :class:`~api.state.Services` it
builds and never wire a use case themselves, so both run the same use cases, observed alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from api import peer_faults
from api.federation_settings import FederationSettings
from api.http.common.database_errors import classify
from api.jobs import service_jobs
from api.metrics import Metrics
from api.settings import Settings
from api.state import Services
from api.webhook_settings import WebhookSettings
from ledger.access.credentials import Access
from ledger.audit.trail import AuditTrail
from ledger.books.batches import EntryBatches
from ledger.books.group_commit import GroupCommit
from ledger.books.service import Ledger
from ledger.economy.service import Economy
from ledger.events.delivery import Deliverer
from ledger.events.feed import EventFeed
from ledger.events.http_poster import http_poster
from ledger.events.monitors import Monitors
from ledger.events.webhooks import Webhooks
from ledger.federation.abandon import PeerAbandonment
from ledger.federation.courier import Courier
from ledger.federation.http_transport import http_transport
from ledger.federation.invitation import Invitations
from ledger.federation.link_peer import LinkMessages
from ledger.federation.link_peer_steps import LinkSteps
from ledger.federation.peering import NodeIdentity
from ledger.federation.ports import FederationTransactions
from ledger.federation.remote import RemoteTransfers
from ledger.federation.remote_directory import RemoteDirectory
from ledger.federation.remote_exchanges import RemoteExchanges
from ledger.federation.remote_reconcile import RemoteReconciliation
from ledger.federation.rotation import KEY_STEP, KeyRotation
from ledger.federation.service import Federation
from ledger.governance.service import Governance
from ledger.governance.transactions import GovernanceTransactions
from ledger.imports.journal_import import JournalImport
from ledger.jobs.runner import JobRunner
from ledger.kernel.clock import utc_now
from ledger.kernel.observer import LedgerEvents
from ledger.store import DatabaseTimeouts, SqlUnitOfWorkFactory, create_engine
from ledger.store.economy import SqlEconomyStore
from ledger.store.events import SqlEventStore
from ledger.store.federation import SqlFederationStore
from ledger.store.federation_peer import SqlPeerStore
from ledger.store.federation_stances import SqlLinkStances
from ledger.store.governance import SqlGovernanceStore
from ledger.store.jobs import SqlJobClaims
from ledger.store.journal_import import SqlJournalWriter
from ledger.store.migrate import upgrade
from ledger.store.monitors import SqlMonitorStore
from ledger.store.replica import ReplicaUnitOfWorkFactory
from ledger.store.scoped import connection_of
from ledger.store.statistics import refresh_statistics
from ledger.store.webhooks import SqlWebhookStore
from reports.exports.journal import JournalExports
from reports.read_slots import ReadSlots
from reports.service import Reports


def bootstrap(
    settings: Settings,
    webhook_settings: WebhookSettings | None = None,
    *,
    bounded: bool = True,
    peer_settings: FederationSettings | None = None,
) -> Services:
    """Every service over one new engine of ``settings.database_url``; the caller disposes of
    ``services.engine`` when done (the app at shutdown, a command by :func:`migrated`).

    ``bounded``: each connection carries the settings' statement and lock timeouts, which keep
    a request from holding the database. Operator commands pass ``False``: an import, archive or
    report is one long piece of work an operator waits for, which a request's bound would cut
    short (``ledger.store.engine.create_engine`` runs tools without server-side bounds)."""
    webhook_settings = webhook_settings or WebhookSettings.from_env()
    peer_settings = peer_settings or FederationSettings.from_env()
    timeouts = _timeouts(settings) if bounded else None
    engine = create_engine(settings.database_url, timeouts=timeouts)
    uow = SqlUnitOfWorkFactory(engine)
    metrics = Metrics(engine)
    replica_reads = _replica_reads(settings, engine, timeouts, metrics)
    # Reports, exports, statements and the community's figures on the member pages: reads that
    # need not run on the primary, only be as fresh as the request (ledger.store.replica).
    long_reads = replica_reads or uow
    slots = _read_slots(settings) if bounded else ReadSlots.unbounded()
    ledger = Ledger(uow, events=metrics, replica_reads=long_reads)
    reports = Reports(long_reads, connection_of, slots=slots)
    governance = governance_of(ledger, metrics)
    economy = Economy(uow, SqlEconomyStore.of, events=metrics)
    batches = EntryBatches(uow, events=metrics)
    federation = federation_of(ledger, metrics)
    return Services(
        settings=settings,
        engine=engine,
        ledger=ledger,
        access=Access(uow, roles_of=governance.roles.current_role_names),
        exports=JournalExports(long_reads, connection_of, slots),
        reports=reports,
        metrics=metrics,
        audit=AuditTrail(uow),
        jobs=JobRunner(SqlJobClaims(engine), service_jobs(reports, governance, economy)),
        feed=EventFeed(uow, SqlEventStore.of),
        webhooks=Webhooks(uow, SqlWebhookStore.of, utc_now, allow=webhook_settings.allow),
        monitors=Monitors(uow, SqlMonitorStore.of, utc_now),
        batches=batches,
        governance=governance,
        economy=economy,
        entry_writes=GroupCommit(
            batches,
            ledger.post_entry,
            group_max=settings.group_commit_max,
            lanes=settings.group_commit_lanes,
            observe=metrics.grouped,
            transient=lambda failure: classify(failure) is not None,
        ),
        deliverer=Deliverer(
            uow,
            SqlWebhookStore.of,
            SqlEventStore.of,
            utc_now,
            poster=http_poster,
            config=webhook_settings.delivery(),
        ),
        journal_import=JournalImport(uow, SqlJournalWriter.of, utc_now),
        federation=federation,
        **_between_nodes(ledger, federation, peer_settings, metrics),
        replica_engine=replica_reads.replica if replica_reads else None,
    )


@asynccontextmanager
async def migrated(settings: Settings) -> AsyncIterator[Services]:
    """The services of one operator command, on a database brought to the latest schema first,
    the engine disposed of afterwards. Unbounded (see :func:`bootstrap`)."""
    services = bootstrap(settings, bounded=False)
    try:
        await upgrade(services.engine)
        # The node's signing key is made on first start (serve and demo migrate first).
        await services.node.ensure_key()
        yield services
        # Operator commands are what change a table's size by orders (an import of a journal
        # or an archive, the demo seed): the planner learns the new sizes before the service's
        # connections plan on them.
        await refresh_statistics(services.engine)
    finally:
        await services.dispose()


def governance_of(ledger: Ledger, events: LedgerEvents | None = None) -> Governance:
    """Every governance use case over the ledger's own units of work, telling ``events`` of its
    writes (the demo seeding builds its governance here too, from a bare ``Ledger``)."""
    transactions = GovernanceTransactions(ledger.units, SqlGovernanceStore.of, utc_now, events)
    return Governance.over(transactions, ledger)


def federation_of(ledger: Ledger, events: LedgerEvents | None = None) -> Federation:
    """Federation's use cases over the ledger's own units of work (the tests build theirs
    here too)."""
    transactions = FederationTransactions(
        ledger.units, SqlFederationStore.of, SqlGovernanceStore.of, utc_now, events
    )
    return Federation.over(transactions, LinkMessages(SqlPeerStore.of, SqlLinkStances.of))


def _between_nodes(
    ledger: Ledger, federation: Federation, settings: FederationSettings, events: Metrics
) -> dict[str, Any]:
    """The services of federation between installs: identity, transfers, receiver, courier."""
    uow = ledger.units
    clock = peer_faults.clock_of(settings.test_clock_file)
    remote = RemoteTransfers(uow, federation.transactions, SqlPeerStore.of, clock, events)
    exchanges = RemoteExchanges(uow, federation.transactions, SqlPeerStore.of, clock, events)
    rotation = KeyRotation(uow, SqlPeerStore.of, clock)
    links = LinkSteps(federation.transactions, SqlPeerStore.of, SqlLinkStances.of)
    courier = Courier(
        uow,
        SqlPeerStore.of,
        clock,
        settings.node_url,
        transport=http_transport,
        answers=peer_faults.armed_answers(
            {
                **remote.answers(),
                **links.answers(),
                **exchanges.answers(),
                KEY_STEP: rotation.answered,
            },
            settings.test_kill_file,
        ),
        config=settings.courier(),
    )
    federation.exchanges.reach_other_nodes(exchanges, RemoteDirectory(courier.ask, clock))
    reconciliation = RemoteReconciliation(
        uow,
        federation.transactions,
        courier,
        SqlPeerStore.of,
        clock=clock,
        node_url=settings.node_url,
    )
    steps = {
        **remote.steps(),
        **links.steps(),
        **exchanges.steps(),
        **reconciliation.steps(),
        KEY_STEP: rotation.step(),
    }
    receiver = peer_faults.receiver_of(
        settings.test_kill_file, uow, SqlPeerStore.of, clock, settings.node_url, steps
    )
    return {
        "peer_settings": settings,
        "remote_transfers": remote,
        "node": NodeIdentity(uow, SqlPeerStore.of, clock),
        "key_rotation": rotation,
        "peer_receiver": receiver,
        "courier": courier,
        "invitations": Invitations(federation.transactions),
        "peer_reconciliation": reconciliation,
        "peer_abandonment": PeerAbandonment(uow, federation.transactions, SqlPeerStore.of, clock),
    }


def _replica_reads(
    settings: Settings, engine: AsyncEngine, timeouts: DatabaseTimeouts | None, metrics: Metrics
) -> ReplicaUnitOfWorkFactory | None:
    if settings.replica_url is None:
        return None
    replica = create_engine(settings.replica_url, timeouts=timeouts)
    return ReplicaUnitOfWorkFactory(engine, replica, observe=metrics.read_served)


def _timeouts(settings: Settings) -> DatabaseTimeouts:
    return DatabaseTimeouts(
        statement_ms=settings.statement_timeout_ms,
        lock_ms=settings.lock_timeout_ms,
        connect_s=settings.connect_timeout_s,
        pool_s=settings.pool_timeout_s,
        idle_in_transaction_ms=settings.idle_in_transaction_timeout_ms,
    )


def _read_slots(settings: Settings) -> ReadSlots:
    """Exports and reports: a few connections at most, for a bounded time (issue 18, H2)."""
    return ReadSlots(
        settings.export_slots, wait_s=settings.pool_timeout_s, deadline_s=settings.export_deadline_s
    )
