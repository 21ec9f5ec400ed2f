"""Many rows in one PostgreSQL statement: one array parameter per column, unnested server-side.

An executemany runs its statement once per row on the server; a multi-row VALUES has no cache
key and is compiled anew for every row count. ``INSERT … SELECT FROM unnest($1, $2, …)`` is one
statement, compiled once, executed once for any number of rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def arrays(table: sa.Table, prefix: str) -> sa.TableValuedAlias:
    """``unnest(<prefix><column>[], …) AS t(<column>, …)``: every column of ``table`` as an
    array parameter of the column's type."""
    # One dimension: a JSON column's values may be lists themselves, not a further dimension.
    params = [
        sa.bindparam(f"{prefix}{c.name}", type_=postgresql.ARRAY(c.type, dimensions=1))
        for c in table.columns
    ]
    return sa.func.unnest(*params).table_valued(*(c.name for c in table.columns)).render_derived()


def insert(table: sa.Table, prefix: str) -> sa.Insert:
    """``INSERT INTO table SELECT * FROM unnest(…)``, its parameters made by :func:`columns`."""
    names = [c.name for c in table.columns]
    rows = arrays(table, prefix)
    return sa.insert(table).from_select(names, sa.select(*(rows.c[name] for name in names)))


def columns(
    table: sa.Table, prefix: str, rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """``rows`` of ``table`` as one list per column: the parameters of :func:`insert`."""
    return {f"{prefix}{c.name}": [row[c.name] for row in rows] for c in table.columns}
