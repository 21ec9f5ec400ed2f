"""The services one application instance holds, reachable from any request; the command line
holds the same bundle (``api.bootstrap`` builds it for both)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from api.federation_settings import FederationSettings
from api.metrics import Metrics
from api.settings import Settings
from ledger.access.credentials import Access
from ledger.audit.trail import AuditTrail
from ledger.books.batches import EntryBatches
from ledger.books.group_commit import GroupCommit
from ledger.books.service import Ledger
from ledger.economy.service import Economy
from ledger.events.delivery import Deliverer
from ledger.events.feed import EventFeed
from ledger.events.monitors import Monitors
from ledger.events.webhooks import Webhooks
from ledger.federation.abandon import PeerAbandonment
from ledger.federation.courier import Courier
from ledger.federation.invitation import Invitations
from ledger.federation.peering import NodeIdentity, PeerReceiver
from ledger.federation.remote import RemoteTransfers
from ledger.federation.remote_reconcile import RemoteReconciliation
from ledger.federation.rotation import KeyRotation
from ledger.federation.service import Federation
from ledger.governance.service import Governance
from ledger.imports.journal_import import JournalImport
from ledger.jobs.runner import JobRunner
from ledger.kernel.model import Community
from reports.exports.journal import JournalExports
from reports.service import Reports


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    ledger: Ledger
    access: Access
    exports: JournalExports
    reports: Reports
    metrics: Metrics
    audit: AuditTrail
    jobs: JobRunner
    feed: EventFeed
    webhooks: Webhooks
    monitors: Monitors
    batches: EntryBatches
    governance: Governance
    economy: Economy
    entry_writes: GroupCommit
    """Single transfers and entries, written in groups (``ledger.books.group_commit``)."""
    deliverer: Deliverer
    """Sends due webhook events: the app's delivery loop and ``commons-ledger deliver-webhooks``."""
    journal_import: JournalImport
    """Historical entries in bulk (``commons-ledger import-journal``)."""
    federation: Federation
    """Links between communities and the cross transfers over them."""
    peer_settings: FederationSettings
    """Federation between installs: this node's URL, which peers it may reach, delivery."""
    remote_transfers: RemoteTransfers
    """Cross transfers to communities on other nodes (prepare here, the offer to the peer)."""
    node: NodeIdentity
    """This node's signing keys (made at first start) and the identity it publishes."""
    key_rotation: KeyRotation
    """A new signing key, announced to every partner node (``federation rotate-key``)."""
    peer_receiver: PeerReceiver
    """Verifies and takes the steps partner nodes send (``/federation/v1/peer/messages``)."""
    courier: Courier
    """Sends the peer outbox: the app's loop and ``commons-ledger federation deliver``."""
    invitations: Invitations
    """Links to communities on other nodes, by invitation and acceptance."""
    peer_reconciliation: RemoteReconciliation
    """A link's journal here against the partner node's."""
    peer_abandonment: PeerAbandonment
    """A partner node gone for good: its transfers in flight settled on the stewards' word
    (``federation abandon-peer``)."""
    replica_engine: AsyncEngine | None = None
    """The streaming replica reports, exports, statements and the community's figures read
    from, when one is configured."""
    communities_by_slug: dict[str, Community] = field(default_factory=dict)
    """Communities found so far. A community is never renamed, re-slugged or deleted, so every
    request after the first of a community saves a database read (misses are not kept)."""

    async def dispose(self) -> None:
        """Closes the database connections (the replica's too): at shutdown, after a command."""
        try:
            if self.replica_engine is not None:
                await self.replica_engine.dispose()
        finally:
            await self.engine.dispose()

    @staticmethod
    def of(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
        services = connection.app.state.services
        assert isinstance(services, Services)
        return services
