"""What every table shares: the metadata with its naming convention, and the column types
both engines read alike (a UTC datetime, JSON, a UUID)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both engines (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert value.tzinfo is not None, "naive datetimes never reach the database"
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Id = sa.Uuid(as_uuid=True)

_ONLY_ON = "only_on"
_Item = TypeVar("_Item", sa.Index, sa.UniqueConstraint)


def only_on(dialect: str, item: _Item) -> _Item:
    """``item`` exists on one engine only: created there alone, and compared with the migrated
    schema there alone (:func:`include_for`)."""
    item.info[_ONLY_ON] = dialect
    return item.ddl_if(dialect=dialect)


def include_for(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for a database of ``dialect``: leaves out the model's items
    marked :func:`only_on` another engine."""

    def include(item: object, _name: str | None, _type: str, reflected: bool, _to: object) -> bool:
        info = getattr(item, "info", {})
        return reflected or info.get(_ONLY_ON, dialect) == dialect

    return include
