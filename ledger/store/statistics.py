"""The planner's statistics, gathered where the service itself changes a table's size by orders:
after migrations are applied, a bulk journal import, an archive import, the demo seed.

PostgreSQL's ``autovacuum`` does this as tables change — unless it is off (as a small or busy
server may run it) or behind. Without statistics a connection keeps the plans it made while the
tables were small (docs/performance.md): the write path is written so that those plans stay
right (its guards and locks name whole primary keys), but every other query — reports, exports,
statements — plans better knowing the real sizes and value spread.

Only tables of at least :data:`MIN_PAGES` pages, and only those whose size has at least doubled
or halved since statistics were last gathered for them (or that never had any). A small table is
left alone on purpose: PostgreSQL plans a table that was never analysed as if it had at least ten
pages, which favours the index on a lookup; once analysed at one or two pages, a sequential scan
is cheaper, and a connection that caches that plan keeps scanning as the table grows.

SQLite is never analysed: its indexes were chosen for a planner without statistics
(migration 0010), and it plans each statement as it prepares it, so nothing goes stale.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIN_PAGES = 10
"""The size from which a table is analysed: the size PostgreSQL assumes for one never analysed."""

# ``pages`` now against ``relpages`` when last analysed (``reltuples`` -1: never analysed).
_CHANGED_TABLES = text(
    """
    SELECT relname FROM (
        SELECT c.relname, c.relpages, c.reltuples,
               pg_relation_size(c.oid) / current_setting('block_size')::int AS pages
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'r'
    ) AS t
    WHERE pages >= :min_pages
      AND (reltuples < 0 OR relpages = 0 OR pages >= 2 * relpages OR 2 * pages <= relpages)
    ORDER BY relname
    """
)


async def refresh_statistics(engine: AsyncEngine) -> list[str]:
    """``ANALYZE`` each table whose size changed by orders (see the module); returns their
    names. One transaction per table, so none is held longer than its own ``ANALYZE``."""
    if engine.dialect.name != "postgresql":
        return []
    async with engine.connect() as connection:
        names = list(
            (await connection.execute(_CHANGED_TABLES, {"min_pages": MIN_PAGES})).scalars()
        )
        await connection.commit()
        for name in names:
            quoted = connection.dialect.identifier_preparer.quote(name)
            await connection.exec_driver_sql(f"ANALYZE {quoted}")
            await connection.commit()
    return names
