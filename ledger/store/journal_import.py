"""The bulk writes of ``ledger.imports.journal_import`` on a unit of work's transaction: binary
COPY on
PostgreSQL (asyncpg's ``copy_records_to_table`` on the connection under SQLAlchemy's, so in the
same transaction), ``executemany`` on SQLite.

On PostgreSQL the schema guards every row of ``entries`` and ``postings`` with per-row triggers:
four foreign keys (each an RI trigger running one lookup per row) and the deferred balance
triggers ``entries_balanced``/``postings_balanced`` (each running ``ledger_assert_entry_balanced``
per row at commit). For 100k entries that is 1.4 million single-row queries, which cost five
times the COPY itself (``python -m bench.import_guards``). So when it may, the writer switches
those triggers off for its COPY statements only, by ``SET LOCAL session_replication_role =
replica`` (this transaction, these statements; nothing in the catalog changes and no table lock
is taken, so other writers are not held up), and afterwards checks in one set-based statement
everything the switched-off triggers check for the rows it wrote (:data:`CHECK_IMPORTED`),
raising :class:`GuardBreached` — so the transaction rolls back — if any row would have failed.
CHECK, NOT NULL, primary-key and unique constraints are not triggers and stay on throughout.

It may when (checked at :meth:`SqlJournalWriter.start`): the role may set that parameter (a
superuser, as the PostgreSQL image's ``POSTGRES_USER`` is, or one granted ``SET`` on it), and
the tables carry exactly the insert triggers and foreign keys the check stands in for — a new
trigger or foreign key on either table makes the writer fall back rather than skip a guard it
does not know. Otherwise it logs why and COPYs with every trigger running, as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

import asyncpg
import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel.model import Entry
from ledger.store.batches import SqlBatchStore
from ledger.store.scoped import ScopedStore
from ledger.store.tables import entries as entries_table
from ledger.store.tables import postings as postings_table

_log = structlog.get_logger("commons_ledger.journal_import")

ENTRY_COLUMNS: Final = tuple(column.name for column in entries_table.columns)
"""The COPY order of an entry's record (``_entry_records``): the table's own columns."""
POSTING_COLUMNS: Final = tuple(column.name for column in postings_table.columns)
_json = msgspec.json.Encoder()

# The guards the set-based check stands in for: each table's user-defined INSERT triggers and
# its foreign keys (migration 0001). Any other makes the writer keep every trigger on.
KNOWN_GUARDS: Final = frozenset(
    {
        ("entries", "trigger", "entries_balanced"),
        ("postings", "trigger", "postings_balanced"),
        ("entries", "foreign key", "fk_entries_community_id_communities"),
        ("entries", "foreign key", "fk_entries_community_id_reverses_entries"),
        ("postings", "foreign key", "fk_postings_community_id_account_id_commodity_accounts"),
        ("postings", "foreign key", "fk_postings_community_id_entry_id_entries"),
    }
)
_GUARDS = """
SELECT c.relname AS "table", 'trigger' AS kind, t.tgname AS name
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relname IN ('entries', 'postings') AND c.relnamespace = current_schema()::regnamespace
  AND NOT t.tgisinternal AND t.tgtype & 4 <> 0  -- TRIGGER_TYPE_INSERT
UNION ALL
SELECT c.relname, 'foreign key', k.conname
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relname IN ('entries', 'postings') AND c.relnamespace = current_schema()::regnamespace
  AND k.contype = 'f'
"""

CHECK_IMPORTED: Final = """
WITH imported AS (
    SELECT e.id, e.effective_date, e.reverses
    FROM entries AS e JOIN (SELECT DISTINCT unnest($2::uuid[]) AS id) AS i ON e.id = i.id
    WHERE e.community_id = $1
),
grouped AS (
    -- One pass over the postings, two groupings: per entry and commodity, per account used.
    SELECT p.entry_id, p.account_id, p.commodity, count(*) AS n, sum(p.amount) AS total,
           bool_or(p.effective_date <> i.effective_date) AS misdated
    FROM imported AS i JOIN postings AS p ON p.community_id = $1 AND p.entry_id = i.id
    GROUP BY GROUPING SETS ((p.entry_id, p.commodity), (p.account_id, p.commodity))
),
per_entry AS (
    SELECT entry_id, sum(n) AS n, bool_or(total <> 0 OR misdated) AS wrong
    FROM grouped WHERE entry_id IS NOT NULL GROUP BY entry_id
)
SELECT
    (SELECT count(*) FROM imported) AS entries,
    (SELECT coalesce(sum(n), 0)::bigint FROM per_entry) AS postings,
    (SELECT count(*) FROM imported AS i LEFT JOIN per_entry AS e ON e.entry_id = i.id
     WHERE e.n IS NULL OR e.n < 2 OR e.wrong) AS unbalanced,
    (SELECT count(*) FROM grouped AS u
     WHERE u.account_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM accounts AS a
         WHERE a.community_id = $1 AND a.id = u.account_id AND a.commodity = u.commodity
           AND a.id = ANY($3::uuid[])))
    + (SELECT count(*) FROM imported AS i
       WHERE i.reverses IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM entries AS r WHERE r.community_id = $1 AND r.id = i.reverses))
    + CASE WHEN EXISTS (SELECT 1 FROM communities WHERE id = $1) THEN 0 ELSE 1 END
    AS "foreign"
"""
"""Over the rows the import wrote (entries ``$2`` of community ``$1``; ``$3`` the accounts it
locked FOR UPDATE): how many entries and postings there are, how many entries break what
``ledger_assert_entry_balanced`` asserts (at least 2 postings, each commodity summing to zero,
every posting dated as its entry), and how many references a foreign key would refuse (a
posting's account and commodity not among the locked accounts — a narrower set than the key's,
and locked more strongly than its ``FOR KEY SHARE`` — a ``reverses`` naming no entry, the
community missing). Postings are found through their entries; counting them against the rows
COPY reported catches a posting written under any other entry: an old entry's postings cannot
name a new entry's id, which the primary key keeps unique."""


class GuardBreached(RuntimeError):
    """A row the bulk path wrote breaks a guard of the schema (a bug: the use case checked every
    entry before writing). Raised before commit, so the transaction rolls back."""


class SqlJournalWriter(ScopedStore):
    """A journal's bulk writes over one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__(connection)
        self._bulk = False
        self._community_id: uuid.UUID | None = None
        self._entry_ids: list[uuid.UUID] = []
        self._account_ids: set[uuid.UUID] = set()
        self._postings = 0

    @property
    def bulk(self) -> bool:
        """Whether the COPY statements run with the per-row triggers off (then checked)."""
        return self._bulk

    async def start(self, community_id: uuid.UUID, locked: Sequence[uuid.UUID]) -> None:
        """Before the first insert: chooses the path. ``locked``: the accounts the use case
        holds FOR UPDATE (the only ones the written postings may name)."""
        self._community_id = community_id
        self._account_ids = set(locked)
        if self._conn.dialect.name != "postgresql":
            return
        driver = await self._driver()
        found = {(r["table"], r["kind"], r["name"]) for r in await driver.fetch(_GUARDS)}
        if found != KNOWN_GUARDS:
            _log.warning(
                "journal_import_guards_unknown",
                detail="entries/postings carry other triggers or foreign keys than the bulk "
                "check knows; importing with every per-row trigger on",
                unknown=sorted(map(str, found ^ KNOWN_GUARDS)),
            )
            return
        await driver.execute("SAVEPOINT journal_import_probe")
        try:
            await driver.execute("SET LOCAL session_replication_role = replica")
        except asyncpg.InsufficientPrivilegeError:
            await driver.execute("ROLLBACK TO SAVEPOINT journal_import_probe")
            _log.warning(
                "journal_import_per_row_guards",
                detail="this role may not set session_replication_role (needs superuser or "
                "GRANT SET ON PARAMETER); importing with every per-row trigger on, slower",
            )
            return
        await driver.execute("SET LOCAL session_replication_role = origin")
        await driver.execute("RELEASE SAVEPOINT journal_import_probe")
        # What the foreign key from entries takes on the community row, for the whole import.
        await driver.execute("SELECT 1 FROM communities WHERE id = $1 FOR KEY SHARE", community_id)
        self._bulk = True

    async def insert(self, written: Sequence[Entry]) -> None:
        if self._conn.dialect.name != "postgresql":
            await SqlBatchStore(self._conn).insert_entries(written)
            return
        driver = await self._driver()
        entries, postings = _entry_records(written), _posting_records(written)
        if self._bulk:
            self._entry_ids += (e.id for e in written)
            self._postings += len(postings)
            # Off for these two statements only: nothing else of the transaction runs without.
            await driver.execute("SET LOCAL session_replication_role = replica")
        await driver.copy_records_to_table("entries", records=entries, columns=ENTRY_COLUMNS)
        await driver.copy_records_to_table("postings", records=postings, columns=POSTING_COLUMNS)
        if self._bulk:
            await driver.execute("SET LOCAL session_replication_role = origin")

    async def finish(self) -> None:
        """After the last insert: on the bulk path, the set-based check of everything the
        switched-off triggers guard, raising :class:`GuardBreached` if any row breaks it."""
        if not self._bulk:
            return
        driver = await self._driver()
        found = await driver.fetchrow(
            CHECK_IMPORTED, self._community_id, self._entry_ids, list(self._account_ids)
        )
        expected = (len(self._entry_ids), self._postings, 0, 0)
        if found is None or tuple(found) != expected:
            raise GuardBreached(
                f"the imported rows break the schema's guards: found {dict(found or {})}, "
                f"expected entries={expected[0]}, postings={expected[1]}, none unbalanced "
                "or foreign"
            )

    async def _driver(self) -> Any:
        raw = await self._conn.get_raw_connection()
        # SQLAlchemy's adapter holds asyncpg's connection, in the transaction SQLAlchemy began.
        return raw.driver_connection


def _entry_records(written: Sequence[Entry]) -> list[tuple[Any, ...]]:
    # jsonb goes as JSON text: SQLAlchemy's asyncpg dialect registers a codec taking text.
    return [
        (
            e.community_id,
            e.id,
            e.status.value,
            e.effective_date,
            e.description,
            e.kind,
            _json.encode(e.metadata).decode(),
            e.created_at,
            e.completed_at,
            e.reverses,
        )
        for e in written
    ]


def _posting_records(written: Sequence[Entry]) -> list[tuple[Any, ...]]:
    return [
        (e.community_id, e.id, line, p.account_id, p.commodity, p.amount, e.effective_date)
        for e in written
        for line, p in enumerate(e.postings)
    ]
