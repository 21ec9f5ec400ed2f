"""The schema, shared by SQLite and PostgreSQL.

Every table carries ``community_id`` and leads its primary key with it, and every foreign key
includes it, so the database itself refuses a posting on another community's account and a
community's rows can be moved to a database of their own. Amounts and counters are BIGINT in the
commodity's smallest unit (minutes for HOURS).

The migrations in ``migrations/`` build exactly this (a test runs autogenerate and expects no
difference); PostgreSQL-only guards (triggers) live in the migrations alone.

One module per concept; this package exports them all, so ``from ledger.store.tables import
accounts`` reads as it always has.
"""

from ledger.store.tables.access import (
    credentials,
)
from ledger.store.tables.audit import (
    audit_heads,
    audit_log,
    events,
)
from ledger.store.tables.base import (
    NAMING_CONVENTION,
    Id,
    Json,
    UTCDateTime,
    include_for,
    metadata,
    only_on,
)
from ledger.store.tables.books import (
    accounts,
    commodities,
    communities,
    entries,
    members,
    postings,
    postings_by_account,
    reversed_by,
)
from ledger.store.tables.economy import (
    account_designations,
    funds,
    schedule_occurrences,
    schedules,
)
from ledger.store.tables.event_delivery import (
    balance_monitors,
    webhook_deliveries,
    webhooks,
)
from ledger.store.tables.federation import (
    federation_journal,
    federation_link_terms,
    federation_link_versions,
    federation_links,
    federation_transfers,
    federation_version_consents,
)
from ledger.store.tables.federation_exchanges import federation_directory, federation_exchanges
from ledger.store.tables.federation_order import federation_checkpoints, federation_journal_held
from ledger.store.tables.federation_peer import (
    federation_node_keys,
    federation_peer_inbox,
    federation_peer_keys,
    federation_peer_outbox,
)
from ledger.store.tables.federation_stances import federation_link_stances
from ledger.store.tables.governance import (
    budget_consents,
    budget_lines,
    budgets,
    disbursement_approvals,
    disbursement_steps,
    disbursements,
    governance_settings,
    role_terms,
)
from ledger.store.tables.idempotency import (
    idempotency_keys,
)
from ledger.store.tables.jobs import (
    job_runs,
)
from ledger.store.tables.reports import (
    report_snapshots,
)

__all__ = [
    "NAMING_CONVENTION",
    "Id",
    "Json",
    "UTCDateTime",
    "account_designations",
    "accounts",
    "audit_heads",
    "audit_log",
    "balance_monitors",
    "budget_consents",
    "budget_lines",
    "budgets",
    "commodities",
    "communities",
    "credentials",
    "disbursement_approvals",
    "disbursement_steps",
    "disbursements",
    "entries",
    "events",
    "federation_checkpoints",
    "federation_directory",
    "federation_exchanges",
    "federation_journal",
    "federation_journal_held",
    "federation_link_stances",
    "federation_link_terms",
    "federation_link_versions",
    "federation_links",
    "federation_node_keys",
    "federation_peer_inbox",
    "federation_peer_keys",
    "federation_peer_outbox",
    "federation_transfers",
    "federation_version_consents",
    "funds",
    "governance_settings",
    "idempotency_keys",
    "include_for",
    "job_runs",
    "members",
    "metadata",
    "only_on",
    "postings",
    "postings_by_account",
    "report_snapshots",
    "reversed_by",
    "role_terms",
    "schedule_occurrences",
    "schedules",
    "webhook_deliveries",
    "webhooks",
]
