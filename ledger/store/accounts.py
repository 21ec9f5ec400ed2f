"""SQL of accounts: their details, their row locks and their maintained counters."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel import errors
from ledger.kernel.model import Account, AccountType, Counters
from ledger.store import alone
from ledger.store.tables import accounts
from ledger.store.unique import insert_unique

_COUNTER_COLUMNS = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")

# The write path's statements are built once, with bind parameters: a statement object keeps its
# cache key, so running it again costs neither construction nor the cache-key walk (≈ 50 µs of
# CPU per statement), and the compiled form comes from the engine's cache
# (tests/store/test_statement_cache.py).
_GET_ACCOUNT = sa.select(accounts).where(
    accounts.c.community_id == sa.bindparam("community_id"),
    accounts.c.id == sa.bindparam("account_id"),
)
_GET_ACCOUNT_ALONE = (
    f"SELECT {', '.join(column.name for column in accounts.c)} FROM accounts"  # noqa: S608
    " WHERE community_id = $1 AND id = $2"
)
"""``_GET_ACCOUNT`` for the driver (``ledger.store.alone``)."""
# SQLite renders no lock clause (its writers take turns: BEGIN IMMEDIATE); PostgreSQL uses
# ``_LOCK_ACCOUNTS_BY_KEY``. FOR NO KEY UPDATE: excludes other writers of these rows but not the
# KEY SHARE locks that foreign-key checks take; rows are locked in id order, so concurrent writers
# cannot deadlock.
_LOCK_ACCOUNTS = (
    sa.select(accounts)
    .where(
        accounts.c.community_id == sa.bindparam("community_id"),
        accounts.c.id.in_(sa.bindparam("account_ids", expanding=True)),
    )
    .order_by(accounts.c.id)
    .with_for_update(key_share=True)
)
# PostgreSQL: the same lock, one primary-key lookup per (community, id) in that order, for one
# community or several (a group across communities). With ``id IN (…) ORDER BY id`` the planner,
# on a nearly empty table, found it cheaper to read the whole community in id order through an
# index led by ``community_id`` than to look the ids up and sort them; a connection kept that
# plan, and on a grown table each lock read every account of the community. Here each lookup
# names the whole key, so no other plan remains, and the lateral subquery runs once per key in
# the sorted order, so the rows are still locked in (community, id) order.
_LOCK_ACCOUNTS_BY_KEY = (
    sa.text(
        f"SELECT {', '.join(f'a.{column.name}' for column in accounts.c)}"  # noqa: S608
        " FROM (SELECT DISTINCT community_id, id FROM unnest(CAST(:community_ids AS uuid[]),"
        " CAST(:account_ids AS uuid[])) AS u(community_id, id) ORDER BY 1, 2) AS k"
        " CROSS JOIN LATERAL (SELECT * FROM accounts"
        " WHERE community_id = k.community_id AND id = k.id FOR NO KEY UPDATE) AS a"
    )
    .bindparams(
        sa.bindparam(
            "community_ids", type_=postgresql.ARRAY(accounts.c.community_id.type, dimensions=1)
        ),
        sa.bindparam("account_ids", type_=postgresql.ARRAY(accounts.c.id.type, dimensions=1)),
    )
    .columns(*accounts.c)
)
_WRITE_COUNTERS = (
    accounts.update()
    .where(
        accounts.c.community_id == sa.bindparam("b_community_id"),
        accounts.c.id == sa.bindparam("b_id"),
    )
    .values({name: sa.bindparam(f"b_{name}") for name in _COUNTER_COLUMNS})
)


class SqlAccounts:
    """Accounts over one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def insert_account(self, account: Account) -> None:
        values = {
            "community_id": account.community_id,
            "id": account.id,
            "code": account.code,
            "name": account.name,
            "type": account.type.value,
            "normal_sign": account.type.normal_sign,
            "commodity": account.commodity,
            "member_id": account.member_id,
            "balance_min": account.balance_min,
            "balance_max": account.balance_max,
            "closed": account.closed,
            "created_at": account.created_at,
            "guarded": account.guarded,
            **_counter_values(account.counters),
        }
        await insert_unique(
            self._conn,
            accounts,
            values,
            errors.AccountCodeExists(f"account code {account.code!r} exists"),
        )

    async def get_account(
        self, community_id: uuid.UUID, account_id: uuid.UUID, *, lock: bool = False
    ) -> Account | None:
        if not lock and alone.runs_alone(self._conn):
            # The balance read: one statement outside a transaction, through the driver.
            found = await alone.fetch_row(self._conn, _GET_ACCOUNT_ALONE, community_id, account_id)
            if found is not alone.BROKEN:
                return None if found is None else _account_of(found)  # type: ignore[arg-type]
        query = _GET_ACCOUNT.with_for_update(key_share=True) if lock else _GET_ACCOUNT
        row = (
            await self._conn.execute(
                query, {"community_id": community_id, "account_id": account_id}
            )
        ).first()
        return None if row is None else account_from_row(row)

    async def list_accounts(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None = None,
        after_code: str | None = None,
        limit: int | None = None,
    ) -> Sequence[Account]:
        query = sa.select(accounts).where(accounts.c.community_id == community_id)
        if member_id is not None:
            query = query.where(accounts.c.member_id == member_id)
        if after_code is not None:
            query = query.where(accounts.c.code > after_code)
        rows = await self._conn.execute(query.order_by(accounts.c.code).limit(limit))
        return [account_from_row(row) for row in rows]

    async def lock_accounts(
        self, community_id: uuid.UUID, account_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Account]:
        return (await self.lock_accounts_across({community_id: account_ids}))[community_id]

    async def lock_accounts_across(
        self, wanted: Mapping[uuid.UUID, Sequence[uuid.UUID]]
    ) -> dict[uuid.UUID, dict[uuid.UUID, Account]]:
        """``lock_accounts`` for several communities at once (``wanted``: each community's
        account ids): each community's accounts found, locked in (community, id) order."""
        found: dict[uuid.UUID, dict[uuid.UUID, Account]] = {c: {} for c in wanted}
        if not any(wanted.values()):
            return found
        if self._conn.dialect.name == "postgresql":
            pairs = [(c, a) for c in wanted for a in wanted[c]]
            result = await self._conn.execute(
                _LOCK_ACCOUNTS_BY_KEY,
                {"community_ids": [c for c, _ in pairs], "account_ids": [a for _, a in pairs]},
            )
            rows: Sequence[sa.Row[Any]] = result.all()
        else:  # one statement per community, in community order: one writer at a time anyway
            rows = [
                row
                for community_id in sorted(wanted)
                for row in await self._conn.execute(
                    _LOCK_ACCOUNTS,
                    {"community_id": community_id, "account_ids": list(wanted[community_id])},
                )
            ]
        for row in rows:
            found[row.community_id][row.id] = account_from_row(row)
        return found

    async def update_account_details(self, account: Account) -> None:
        await self._conn.execute(
            accounts.update()
            .where(accounts.c.community_id == account.community_id, accounts.c.id == account.id)
            .values(
                name=account.name,
                balance_min=account.balance_min,
                balance_max=account.balance_max,
                closed=account.closed,
                guarded=account.guarded,
            )
        )

    async def write_counters_across(
        self, counters: Mapping[uuid.UUID, Mapping[uuid.UUID, Counters]]
    ) -> None:
        """Each community's accounts' new counters, in one statement."""
        # The rows are locked (lock_accounts), so writing the checked values is exact.
        await self._conn.execute(
            _WRITE_COUNTERS,
            [
                {
                    "b_community_id": community_id,
                    "b_id": account_id,
                    **{f"b_{k}": v for k, v in _counter_values(values).items()},
                }
                for community_id, counters_by_account in counters.items()
                for account_id, values in counters_by_account.items()
            ],
        )


def _counter_values(counters: Counters) -> dict[str, int]:
    return {name: getattr(counters, name) for name in _COUNTER_COLUMNS}


def account_from_row(row: sa.Row[Any]) -> Account:
    """From an ``accounts`` row as SQLAlchemy reads it."""
    return _account_of(row._mapping)


def _account_of(values: Mapping[Any, Any]) -> Account:
    """From an ``accounts`` row by column name (SQLAlchemy's, or asyncpg's record)."""
    return Account(
        community_id=values["community_id"],
        id=values["id"],
        code=values["code"],
        name=values["name"],
        type=AccountType(values["type"]),
        commodity=values["commodity"],
        member_id=values["member_id"],
        balance_min=values["balance_min"],
        balance_max=values["balance_max"],
        closed=values["closed"],
        # As ``UTCDateTime`` gives it (asyncpg's zone object is another UTC).
        created_at=values["created_at"].astimezone(UTC),
        counters=Counters(*(values[name] for name in _COUNTER_COLUMNS)),
        guarded=values["guarded"],
    )
