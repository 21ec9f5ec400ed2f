"""Migration 0012 on a database with data (issue 18): the emergency fund's account becomes
guarded with a floor of 0, web sessions from before it end, and older member tokens are not
personal (their issuer is unknown)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.store import create_engine
from ledger.store.migrate import upgrade
from tests.databases import postgres_database, sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    with postgres_database("cl_migration_0012") as url:
        yield url


def _seed(connection: Connection) -> dict[str, uuid.UUID]:
    """At revision 0010: a community with a fund account holding 500 (no floor), a member
    with a member token and a web session."""
    meta = sa.MetaData()
    table = {
        name: sa.Table(name, meta, autoload_with=connection)
        for name in ("communities", "commodities", "accounts", "members", "credentials")
    }
    settings = sa.Table("governance_settings", meta, autoload_with=connection)
    now = datetime.now(UTC)
    ids = {name: uuid.uuid4() for name in ("community", "fund", "hours", "member")}
    ids |= {"token": uuid.uuid4(), "session": uuid.uuid4()}
    community = ids["community"]

    def insert(table_name: str, /, **values: Any) -> None:
        values = {key: _stored(connection, value) for key, value in values.items()}
        connection.execute(table[table_name].insert().values(**values))

    insert("communities", id=community, slug="m12", name="M", created_at=now)
    insert("commodities", community_id=community, code="HOURS", name="Hours", scale=0)
    for account_id, code, kind, sign, debits in (
        (ids["fund"], "Assets:Fund", "asset", 1, 500),
        (ids["hours"], "Member:Ann", "liability", -1, 0),
    ):
        insert(
            "accounts", community_id=community, id=account_id, code=code, name=code, type=kind,
            normal_sign=sign, commodity="HOURS", member_id=None, balance_min=None,
            balance_max=None, closed=False, created_at=now, debits_posted=debits,
            credits_posted=0, debits_pending=0, credits_pending=0,
        )  # fmt: skip
    insert(
        "members", community_id=community, id=ids["member"], name="Ann",
        hours_account_id=ids["hours"], created_at=now,
    )  # fmt: skip
    for credential_id, name in ((ids["token"], "phone"), (ids["session"], "web session")):
        insert(
            "credentials", community_id=community, id=credential_id, kind="member", name=name,
            scopes="read write", member_id=ids["member"], secret_hash=credential_id.hex * 2,
            created_at=now,
        )  # fmt: skip
    connection.execute(
        settings.insert().values(
            community_id=_stored(connection, community),
            consent_rule="consensus",
            approvals_required=2,
            request_days=14,
            fund_account_id=_stored(connection, ids["fund"]),
            updated_at=now,
        )
    )
    return ids


def _stored(connection: Connection, value: object) -> object:
    """A UUID as the reflected column takes it: SQLite's is CHAR(32), hex digits."""
    if isinstance(value, uuid.UUID) and connection.dialect.name == "sqlite":
        return value.hex
    return value


def _read(connection: Connection, ids: dict[str, uuid.UUID]) -> dict[str, Any]:
    meta = sa.MetaData()
    accounts = sa.Table("accounts", meta, autoload_with=connection)
    credentials = sa.Table("credentials", meta, autoload_with=connection)
    fund = connection.execute(sa.select(accounts).where(accounts.c.id == ids["fund"])).one()
    hours = connection.execute(sa.select(accounts).where(accounts.c.id == ids["hours"])).one()
    rows = connection.execute(sa.select(credentials)).all()
    found = {uuid.UUID(str(row.id)): row for row in rows}
    return {
        "fund": (bool(fund.guarded), fund.balance_min),
        "hours": (bool(hours.guarded), hours.balance_min),
        "token": (found[ids["token"]].revoked_at is None, bool(found[ids["token"]].personal)),
        "session": found[ids["session"]].revoked_at is not None,
    }


async def test_0012_guards_the_fund_and_ends_old_sessions(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        await upgrade(engine, "0010")
        async with engine.begin() as connection:
            ids = await connection.run_sync(_seed)
        await upgrade(engine, "0012")
        async with engine.connect() as connection:
            state = await connection.run_sync(_read, ids)
    finally:
        await engine.dispose()
    assert state == {
        "fund": (True, 0),
        "hours": (False, None),
        "token": (True, False),
        "session": True,
    }
