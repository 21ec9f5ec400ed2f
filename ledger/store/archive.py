"""A community's complete, versioned archive as JSON Lines: written streaming, restored whole.

The archive is a header line, then every row of the community table by table in dependency
order (each line ``{"table": …, "row": {…}}``, rows in primary-key order), then a footer with the
row count of each table and the SHA-256 of every line before it. Rows are copied as stored — ids,
maintained balances, idempotency keys, credentials (as hashes) and the audit chain — so a restore
gives the same trial balance, entry ids and audit chain, on either engine.

Restoring refuses an archive of another format or schema version, one whose footer does not
match its lines, and a community that already exists in the target database; it writes
everything in one transaction, so a failed restore leaves nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.kernel import errors
from ledger.store.engine import WRITE_OPTION
from ledger.store.tables import (
    account_designations,
    accounts,
    audit_heads,
    audit_log,
    balance_monitors,
    budget_consents,
    budget_lines,
    budgets,
    commodities,
    communities,
    credentials,
    disbursement_approvals,
    disbursement_steps,
    disbursements,
    entries,
    events,
    federation_checkpoints,
    federation_directory,
    federation_exchanges,
    federation_journal,
    federation_journal_held,
    federation_link_stances,
    federation_link_terms,
    federation_link_versions,
    federation_links,
    federation_node_keys,
    federation_peer_inbox,
    federation_peer_keys,
    federation_peer_outbox,
    federation_transfers,
    federation_version_consents,
    funds,
    governance_settings,
    idempotency_keys,
    job_runs,
    members,
    postings,
    report_snapshots,
    role_terms,
    schedule_occurrences,
    schedules,
    webhook_deliveries,
    webhooks,
)

FORMAT: Final = "commons-ledger-archive"
FORMAT_VERSION: Final = 1
TABLES: Final = (
    communities,
    commodities,
    members,
    accounts,
    entries,
    postings,
    account_designations,
    funds,
    schedules,
    schedule_occurrences,
    credentials,
    idempotency_keys,
    audit_log,
    audit_heads,
    events,
    report_snapshots,
    job_runs,
    balance_monitors,
    webhooks,
    webhook_deliveries,
    governance_settings,
    role_terms,
    budgets,
    budget_lines,
    budget_consents,
    disbursements,
    disbursement_approvals,
    disbursement_steps,
    federation_links,
    federation_link_versions,
    federation_link_terms,
    federation_version_consents,
    federation_link_stances,
    federation_transfers,
    federation_journal,
    federation_journal_held,
    federation_checkpoints,
    federation_peer_keys,
    federation_peer_inbox,
    federation_peer_outbox,
    federation_exchanges,
    federation_directory,
)
"""Every table of a community, parents before children (entries by id: a reversal after the
entry it reverses, since ids are UUIDv7)."""
NODE_TABLES: Final = (federation_node_keys,)
"""The tables of the install, not of a community: never archived. The node's private signing key
stays on its node; a community restored on another install speaks with that install's key, and
its partner nodes must bind it (a new invitation)."""
_BATCH_ROWS: Final = 500

_encoder = msgspec.json.Encoder(order="deterministic")


class ArchiveError(errors.InvalidInput):
    """The archive cannot be restored; the detail says why and where."""


@dataclass(frozen=True, slots=True)
class Restored:
    community_id: uuid.UUID
    slug: str
    rows: dict[str, int]


def _encode_value(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _decode_value(column: sa.Column[Any], value: object) -> object:
    if value is None:
        return None
    column_type = column.type
    # A TypeDecorator (UTCDateTime) tells its Python type through the type it decorates.
    kind = getattr(column_type, "impl_instance", column_type).python_type
    if kind is uuid.UUID:
        return uuid.UUID(str(value))
    if kind is datetime:
        return datetime.fromisoformat(str(value))
    if kind is date:
        return date.fromisoformat(str(value))
    if kind is bytes:
        return base64.b64decode(str(value))
    return value


async def export_lines(
    engine: AsyncEngine, slug: str, schema_revision: str, now: datetime
) -> AsyncIterator[bytes]:
    """The archive of community ``slug``, line by line (each ending in a newline), read from
    one snapshot and streamed from the database."""
    digest = hashlib.sha256()
    counts: dict[str, int] = {}

    def line(document: object) -> bytes:
        encoded = _encoder.encode(document) + b"\n"
        digest.update(encoded)
        return encoded

    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        else:
            await connection.execution_options(**{WRITE_OPTION: False})
        async with connection.begin():
            community_id = await _community_id(connection, slug)
            yield line(
                {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "schema_revision": schema_revision,
                    "community": slug,
                    "exported_at": _encode_value(now),
                }
            )
            for table in TABLES:
                counts[str(table.name)] = 0
                async for row in _rows(connection, table, community_id):
                    counts[str(table.name)] += 1
                    yield line({"table": str(table.name), "row": row})
    yield _encoder.encode({"counts": counts, "sha256": digest.hexdigest()}) + b"\n"


async def _community_id(connection: AsyncConnection, slug: str) -> uuid.UUID:
    found = (
        await connection.execute(sa.select(communities.c.id).where(communities.c.slug == slug))
    ).scalar()
    if found is None:
        raise errors.CommunityNotFound(f"community {slug!r} does not exist")
    return uuid.UUID(str(found))


async def _rows(
    connection: AsyncConnection, table: sa.Table, community_id: uuid.UUID
) -> AsyncIterator[dict[str, object]]:
    key = table.c.id if table is communities else table.c.community_id
    query = sa.select(table).where(key == community_id).order_by(*table.primary_key.columns)
    result = await connection.stream(query.execution_options(yield_per=_BATCH_ROWS))
    async for row in result:
        yield {str(name): _encode_value(value) for name, value in row._mapping.items()}


async def import_lines(
    engine: AsyncEngine, lines: Iterable[bytes], schema_revision: str
) -> Restored:
    """Restores an archive into ``engine``'s database, all in one transaction."""
    restorer = _Restorer(schema_revision)
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            for number, raw in enumerate(lines, start=1):
                await restorer.take(connection, number, raw)
            await restorer.finish(connection)
    assert restorer.community is not None
    return Restored(restorer.community[0], restorer.community[1], restorer.counts)


class _Restorer:
    def __init__(self, schema_revision: str) -> None:
        self._revision = schema_revision
        self._tables = {table.name: table for table in TABLES}
        self._digest = hashlib.sha256()
        self._pending: dict[str, list[dict[str, object]]] = {}
        self.counts: dict[str, int] = {table.name: 0 for table in TABLES}
        self.community: tuple[uuid.UUID, str] | None = None
        self._footer: dict[str, Any] | None = None

    async def take(self, connection: AsyncConnection, number: int, raw: bytes) -> None:
        if self._footer is not None:
            raise ArchiveError(f"line {number}: content after the footer")
        try:
            document = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise ArchiveError(f"line {number}: not JSON ({exc})") from None
        if number == 1:
            self._check_header(document)
        elif "table" not in document:
            self._footer = document
            return
        else:
            await self._add(connection, number, document)
        self._digest.update(raw if raw.endswith(b"\n") else raw + b"\n")

    def _check_header(self, header: Any) -> None:
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ArchiveError("line 1: not a Commons Ledger archive")
        if header.get("version") != FORMAT_VERSION:
            raise ArchiveError(f"line 1: archive format {header.get('version')!r} is unknown")
        if header.get("schema_revision") != self._revision:
            raise ArchiveError(
                f"line 1: archive of schema {header.get('schema_revision')!r}; this database is "
                f"at {self._revision!r} (restore with the version that wrote it, then upgrade)"
            )

    async def _add(self, connection: AsyncConnection, number: int, document: Any) -> None:
        table = self._tables.get(document.get("table"))
        if table is None or not isinstance(document.get("row"), dict):
            raise ArchiveError(f"line {number}: unknown table {document.get('table')!r}")
        try:
            row = {name: _decode_value(table.c[name], v) for name, v in document["row"].items()}
        except (KeyError, ValueError, TypeError) as exc:
            raise ArchiveError(f"line {number}: a malformed {table.name} row ({exc})") from None
        if table is communities:
            await self._claim_community(connection, row)
        elif self.community is None or row.get("community_id") != self.community[0]:
            raise ArchiveError(f"line {number}: a row of another community")
        self._pending.setdefault(table.name, []).append(row)
        self.counts[table.name] += 1
        if len(self._pending[table.name]) >= _BATCH_ROWS:
            await self._flush(connection)

    async def _claim_community(self, connection: AsyncConnection, row: dict[str, Any]) -> None:
        if self.community is not None:
            raise ArchiveError("an archive holds one community")
        taken = await connection.execute(
            sa.select(communities.c.slug).where(
                sa.or_(communities.c.id == row["id"], communities.c.slug == row["slug"])
            )
        )
        if taken.first() is not None:
            raise ArchiveError(f"community {row['slug']!r} already exists in this database")
        self.community = (row["id"], row["slug"])

    async def _flush(self, connection: AsyncConnection) -> None:
        # Table order is dependency order: parents are always written before their children.
        for table in TABLES:
            rows = self._pending.pop(table.name, [])
            if rows:
                await connection.execute(sa.insert(table), rows)

    async def finish(self, connection: AsyncConnection) -> None:
        if self._footer is None:
            raise ArchiveError("the archive ends without its footer: it was cut short")
        if self._footer.get("sha256") != self._digest.hexdigest():
            raise ArchiveError("the archive's checksum does not match its lines")
        if self._footer.get("counts") != self.counts:
            raise ArchiveError("the archive's row counts do not match its lines")
        if self.community is None:
            raise ArchiveError("the archive holds no community")
        await self._flush(connection)
