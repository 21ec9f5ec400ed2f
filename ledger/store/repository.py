"""All SQL of the ledger, in SQLAlchemy Core, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.access.principals import Credential, CredentialKind, Scope
from ledger.books.ports import StoredOutcome
from ledger.kernel import errors
from ledger.kernel.model import (
    Account,
    AccountType,
    Commodity,
    Community,
    Counters,
    Entry,
    EntryStatus,
    IdempotencyKey,
    Member,
    Posting,
    StatementCursor,
    StatementLine,
)
from ledger.store import alone
from ledger.store.audit import SqlAuditStore
from ledger.store.monitors import SqlMonitorWatch
from ledger.store.tables import (
    accounts,
    commodities,
    communities,
    credentials,
    entries,
    idempotency_keys,
    members,
    postings,
    postings_by_account,
)

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
# FOR NO KEY UPDATE: excludes other writers of these rows but not the KEY SHARE locks that
# foreign-key checks take. PostgreSQL locks rows as the sorted result yields them, so the ORDER BY
# fixes the lock order and concurrent writers cannot deadlock.
_LOCK_ACCOUNTS = (
    sa.select(accounts)
    .where(
        accounts.c.community_id == sa.bindparam("community_id"),
        accounts.c.id.in_(sa.bindparam("account_ids", expanding=True)),
    )
    .order_by(accounts.c.id)
    .with_for_update(key_share=True)
)
_WRITE_COUNTERS = (
    accounts.update()
    .where(
        accounts.c.community_id == sa.bindparam("b_community_id"),
        accounts.c.id == sa.bindparam("b_id"),
    )
    .values({name: sa.bindparam(f"b_{name}") for name in _COUNTER_COLUMNS})
)
_INSERT_ENTRY = entries.insert()
_INSERT_POSTINGS = postings.insert()
_KEY_MATCHES = (
    idempotency_keys.c.community_id == sa.bindparam("b_community_id"),
    idempotency_keys.c.scope == sa.bindparam("b_scope"),
    idempotency_keys.c.key == sa.bindparam("b_key"),
)
_CLAIM_KEY = {
    name: insert(idempotency_keys).on_conflict_do_nothing().returning(idempotency_keys.c.key)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_RECORDED_OUTCOME = sa.select(idempotency_keys.c.fingerprint, idempotency_keys.c.result).where(
    *_KEY_MATCHES
)
_STORE_RESULT = (
    idempotency_keys.update().where(*_KEY_MATCHES).values(result=sa.bindparam("b_result"))
)


def _lock_and_claim() -> Any:
    """PostgreSQL: take the key's in-flight lock and claim the key in one round trip. The row is
    inserted only when the lock was free; the read that follows a miss tells which it was."""
    got = sa.func.pg_try_advisory_xact_lock(sa.bindparam("lock_id", type_=sa.BigInteger))
    lock = sa.select(got.label("got")).cte("in_flight")
    columns = ("community_id", "scope", "key", "fingerprint", "created_at")
    row = sa.select(
        *(sa.bindparam(name, type_=idempotency_keys.c[name].type) for name in columns)
    ).where(lock.c.got)
    return (
        postgresql.insert(idempotency_keys)
        .from_select(columns, row)
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    )


_LOCK_AND_CLAIM_KEY = _lock_and_claim()


class SqlRepository(SqlAuditStore, SqlMonitorWatch):
    """The ledger's repository over one connection inside one transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._dialect = connection.dialect.name
        self._more_events = []

    # Communities, commodities, members ------------------------------------------------------

    async def insert_community(self, community: Community) -> None:
        values = {
            "id": community.id,
            "slug": community.slug,
            "name": community.name,
            "created_at": community.created_at,
        }
        await self._insert_unique(
            communities, values, errors.CommunityExists(f"slug {community.slug!r} is taken")
        )

    async def get_community(self, community_id: uuid.UUID) -> Community | None:
        row = (
            await self._conn.execute(sa.select(communities).where(communities.c.id == community_id))
        ).first()
        return None if row is None else Community(row.id, row.slug, row.name, row.created_at)

    async def get_community_by_slug(self, slug: str) -> Community | None:
        row = (
            await self._conn.execute(sa.select(communities).where(communities.c.slug == slug))
        ).first()
        return None if row is None else Community(row.id, row.slug, row.name, row.created_at)

    async def insert_commodity(self, commodity: Commodity) -> None:
        values = {
            "community_id": commodity.community_id,
            "code": commodity.code,
            "name": commodity.name,
            "scale": commodity.scale,
        }
        await self._insert_unique(
            commodities, values, errors.CommodityExists(f"commodity {commodity.code!r} exists")
        )

    async def get_commodity(self, community_id: uuid.UUID, code: str) -> Commodity | None:
        row = (
            await self._conn.execute(
                sa.select(commodities).where(
                    commodities.c.community_id == community_id, commodities.c.code == code
                )
            )
        ).first()
        return None if row is None else Commodity(row.community_id, row.code, row.name, row.scale)

    async def list_commodities(self, community_id: uuid.UUID) -> Sequence[Commodity]:
        rows = await self._conn.execute(
            sa.select(commodities)
            .where(commodities.c.community_id == community_id)
            .order_by(commodities.c.code)
        )
        return [Commodity(r.community_id, r.code, r.name, r.scale) for r in rows]

    async def insert_member(self, member: Member) -> None:
        await self._conn.execute(
            members.insert().values(
                community_id=member.community_id,
                id=member.id,
                name=member.name,
                hours_account_id=member.hours_account_id,
                created_at=member.created_at,
            )
        )

    async def get_member(self, community_id: uuid.UUID, member_id: uuid.UUID) -> Member | None:
        row = (
            await self._conn.execute(
                sa.select(members).where(
                    members.c.community_id == community_id, members.c.id == member_id
                )
            )
        ).first()
        if row is None:
            return None
        return Member(row.community_id, row.id, row.name, row.hours_account_id, row.created_at)

    async def list_members(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Member]:
        query = sa.select(members).where(members.c.community_id == community_id)
        if after is not None:
            query = query.where(members.c.id > after)
        rows = await self._conn.execute(query.order_by(members.c.id).limit(limit))
        return [
            Member(row.community_id, row.id, row.name, row.hours_account_id, row.created_at)
            for row in rows
        ]

    # Accounts ---------------------------------------------------------------------------------

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
            **_counter_values(account.counters),
        }
        await self._insert_unique(
            accounts, values, errors.AccountCodeExists(f"account code {account.code!r} exists")
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
        return None if row is None else _account(row)

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
        return [_account(row) for row in rows]

    async def lock_accounts(
        self, community_id: uuid.UUID, account_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Account]:
        rows = await self._conn.execute(
            _LOCK_ACCOUNTS, {"community_id": community_id, "account_ids": list(account_ids)}
        )
        return {row.id: _account(row) for row in rows}

    async def update_account_details(self, account: Account) -> None:
        await self._conn.execute(
            accounts.update()
            .where(accounts.c.community_id == account.community_id, accounts.c.id == account.id)
            .values(
                name=account.name,
                balance_min=account.balance_min,
                balance_max=account.balance_max,
                closed=account.closed,
            )
        )

    async def write_counters(
        self,
        community_id: uuid.UUID,
        counters_by_account: Mapping[uuid.UUID, Counters],
    ) -> None:
        # The rows are locked (lock_accounts), so writing the checked values is exact.
        await self._conn.execute(
            _WRITE_COUNTERS,
            [
                {
                    "b_community_id": community_id,
                    "b_id": account_id,
                    **{f"b_{k}": v for k, v in _counter_values(counters).items()},
                }
                for account_id, counters in counters_by_account.items()
            ],
        )
        await self._watch_monitors(community_id, counters_by_account)

    # Entries ----------------------------------------------------------------------------------

    async def insert_entry(self, entry: Entry) -> None:
        await self._conn.execute(_INSERT_ENTRY, entry_row(entry))
        await self._conn.execute(_INSERT_POSTINGS, posting_rows(entry))

    async def get_entry(
        self, community_id: uuid.UUID, entry_id: uuid.UUID, *, lock: bool = False
    ) -> Entry | None:
        query = sa.select(entries).where(
            entries.c.community_id == community_id, entries.c.id == entry_id
        )
        if lock:
            query = query.with_for_update(key_share=True)
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        return (await self._with_postings(community_id, [row]))[0]

    async def list_entries(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
        account_ids: Sequence[uuid.UUID] | None = None,
        kind: str | None = None,
        status: EntryStatus | None = None,
    ) -> Sequence[Entry]:
        query = sa.select(entries).where(entries.c.community_id == community_id)
        if after is not None:
            query = query.where(entries.c.id > after)
        if kind is not None:
            query = query.where(entries.c.kind == kind)
        if status is not None:
            query = query.where(entries.c.status == status.value)
        if account_ids is not None:
            touching = sa.select(postings.c.entry_id).where(
                postings.c.community_id == community_id,
                postings.c.entry_id == entries.c.id,
                postings.c.account_id.in_(account_ids),
            )
            query = query.where(touching.exists())
        rows = (await self._conn.execute(query.order_by(entries.c.id).limit(limit))).all()
        return await self._with_postings(community_id, rows)

    async def _with_postings(
        self, community_id: uuid.UUID, rows: Sequence[sa.Row[Any]]
    ) -> list[Entry]:
        if not rows:
            return []
        lines = await self._conn.execute(
            sa.select(postings)
            .where(
                postings.c.community_id == community_id,
                postings.c.entry_id.in_([row.id for row in rows]),
            )
            .order_by(postings.c.entry_id, postings.c.line)
        )
        by_entry: dict[uuid.UUID, list[Posting]] = {row.id: [] for row in rows}
        for line in lines:
            by_entry[line.entry_id].append(Posting(line.account_id, line.amount, line.commodity))
        return [_entry(row, tuple(by_entry[row.id])) for row in rows]

    async def complete_entry(
        self,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        status: EntryStatus,
        completed_at: datetime,
    ) -> None:
        await self._conn.execute(
            entries.update()
            .where(
                entries.c.community_id == community_id,
                entries.c.id == entry_id,
                entries.c.status == EntryStatus.PENDING.value,
            )
            .values(status=status.value, completed_at=completed_at)
        )

    async def reversal_of(self, community_id: uuid.UUID, entry_id: uuid.UUID) -> uuid.UUID | None:
        return (
            await self._conn.execute(
                sa.select(entries.c.id).where(
                    entries.c.community_id == community_id, entries.c.reverses == entry_id
                )
            )
        ).scalar_one_or_none()

    # Balances and statements ------------------------------------------------------------------

    async def counters_as_of(
        self, community_id: uuid.UUID, account_id: uuid.UUID, as_of: date
    ) -> Counters:
        by_account = await self._counters_as_of(
            community_id, as_of, postings.c.account_id == account_id, accounts.c.id == account_id
        )
        return by_account.get(account_id, Counters())

    async def counters_by_account_as_of(
        self, community_id: uuid.UUID, as_of: date
    ) -> Mapping[uuid.UUID, Counters]:
        return await self._counters_as_of(community_id, as_of, sa.true(), sa.true())

    async def summed_from_postings(
        self, community_id: uuid.UUID, as_of: date
    ) -> dict[uuid.UUID, Counters]:
        """Per account, its postings of entries effective on or before ``as_of`` summed by their
        entry's status now — never the maintained counters (what checks of the counters compare
        them with)."""
        return await self._sum_postings(community_id, as_of, sa.true(), after=False)

    async def _counters_as_of(
        self,
        community_id: uuid.UUID,
        as_of: date,
        condition: sa.ColumnElement[bool],
        account_condition: sa.ColumnElement[bool],
    ) -> dict[uuid.UUID, Counters]:
        """From whichever end of the history is nearer ``as_of``: the postings dated on or before
        it summed, or the maintained counters (every posting of the account) less the postings
        dated after it — a balance as of a recent date then reads the recent postings only,
        however long the history. Exact both ways: the counters are kept equal to the sums of
        the postings by status in the transaction that changes them."""
        span = await self._postings_span(community_id, condition)
        if span is None or not _nearer_the_end(span, as_of):
            return await self._sum_postings(community_id, as_of, condition, after=False)
        later = await self._sum_postings(community_id, as_of, condition, after=True)
        a = accounts.c
        rows = await self._conn.execute(
            sa.select(
                a.id, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending
            ).where(a.community_id == community_id, account_condition)
        )
        found: dict[uuid.UUID, Counters] = {}
        for account_id, *now in rows:
            taken = later.get(account_id, Counters())
            counters = Counters(
                now[0] - taken.debits_posted,
                now[1] - taken.credits_posted,
                now[2] - taken.debits_pending,
                now[3] - taken.credits_pending,
            )
            if counters != Counters():
                found[account_id] = counters
        return found

    async def _postings_span(
        self, community_id: uuid.UUID, condition: sa.ColumnElement[bool]
    ) -> tuple[date, date] | None:
        """The first and last effective dates of the postings (two index probes), or None."""
        p = postings.c
        where = (p.community_id == community_id, condition)
        row = (
            await self._conn.execute(
                sa.select(
                    sa.select(sa.func.min(p.effective_date)).where(*where).scalar_subquery(),
                    sa.select(sa.func.max(p.effective_date)).where(*where).scalar_subquery(),
                )
            )
        ).one()
        return None if row[0] is None else (row[0], row[1])

    async def _sum_postings(
        self,
        community_id: uuid.UUID,
        as_of: date,
        condition: sa.ColumnElement[bool],
        *,
        after: bool,
    ) -> dict[uuid.UUID, Counters]:
        """Per account, the postings dated on or before ``as_of`` (after it when ``after``)
        summed by their entry's status. Postings alone are summed (they carry their entry's
        date), whatever their entry's status; the postings of the few entries not posted (found
        through a partial index) are summed per status apart. Posted = all − those; pending =
        those of pending entries. Joining every posting to its entry for the status cost several
        times the sum itself."""
        p, e = postings.c, entries.c
        dated = p.effective_date > as_of if after else p.effective_date <= as_of
        debits = sa.func.sum(sa.case((p.amount > 0, p.amount), else_=0))
        credits = sa.func.sum(sa.case((p.amount < 0, -p.amount), else_=0))
        every = await self._conn.execute(
            sa.select(p.account_id, debits, credits)
            .where(p.community_id == community_id, dated, condition)
            .group_by(postings_by_account(self._conn.dialect.name))
        )
        totals = {row[0]: [int(row[1]), int(row[2]), 0, 0] for row in every}
        # A literal, not a parameter: only then may PostgreSQL use the partial index.
        not_posted = e.status != sa.literal_column(f"'{EntryStatus.POSTED.value}'")
        unposted = await self._conn.execute(
            sa.select(p.account_id, e.status, debits, credits)
            .select_from(
                entries.join(postings, (p.community_id == e.community_id) & (p.entry_id == e.id))
            )
            .where(e.community_id == community_id, not_posted, dated, condition)
            .group_by(p.account_id, e.status)
        )
        for account_id, status, debit, credit in unposted:
            total = totals[account_id]
            total[0] -= int(debit)
            total[1] -= int(credit)
            if status == EntryStatus.PENDING.value:
                total[2] += int(debit)
                total[3] += int(credit)
        return {account_id: Counters(*total) for account_id, total in totals.items()}

    async def statement(
        self,
        community_id: uuid.UUID,
        account: Account,
        *,
        after: StatementCursor | None,
        limit: int,
    ) -> Sequence[tuple[StatementLine, StatementCursor]]:
        order = (postings.c.effective_date, postings.c.entry_id, postings.c.line)
        base = (
            sa.select(postings.c.amount)
            .join(
                entries,
                sa.and_(
                    entries.c.community_id == postings.c.community_id,
                    entries.c.id == postings.c.entry_id,
                ),
            )
            .where(
                postings.c.community_id == community_id,
                postings.c.account_id == account.id,
                entries.c.status == EntryStatus.POSTED.value,
            )
        )
        position = sa.tuple_(*order)
        opening = 0
        page = base.add_columns(*order, entries.c.description)
        if after is not None:
            cursor = sa.tuple_(
                sa.literal(after.effective_date, sa.Date),
                sa.literal(after.entry_id, postings.c.entry_id.type),
                sa.literal(after.line, sa.SmallInteger),
            )
            before = base.where(position <= cursor).subquery()
            opening = int(
                (
                    await self._conn.execute(
                        sa.select(sa.func.coalesce(sa.func.sum(before.c.amount), 0))
                    )
                ).scalar_one()
            )
            page = page.where(position > cursor)
        rows = await self._conn.execute(page.order_by(*order).limit(limit))
        sign = account.type.normal_sign
        result: list[tuple[StatementLine, StatementCursor]] = []
        running = sign * opening
        for row in rows:
            running += sign * row.amount
            line = StatementLine(
                row.entry_id, row.effective_date, row.description, sign * row.amount, running
            )
            result.append((line, StatementCursor(row.effective_date, row.entry_id, row.line)))
        return result

    # Idempotency ------------------------------------------------------------------------------

    async def claim_idempotency_key(
        self,
        community_id: uuid.UUID,
        key: IdempotencyKey,
        fingerprint: str,
        created_at: datetime,
    ) -> StoredOutcome | None:
        row = {
            "community_id": community_id,
            "scope": key.scope,
            "key": key.key,
            "fingerprint": fingerprint,
            "created_at": created_at,
        }
        if self._dialect == "postgresql":
            # A transaction-scoped advisory lock per key: a second request under a key whose
            # first is still running fails at once instead of waiting for it (SQLite needs none:
            # its writers never overlap). The claiming statement takes it.
            row["lock_id"] = in_flight_lock_id(community_id, key.scope, key.key)
            statement = _LOCK_AND_CLAIM_KEY
        else:
            statement = _CLAIM_KEY[self._dialect]
        try:
            claimed = (await self._conn.execute(statement, row)).first()
        except IntegrityError:  # the one foreign key: the community
            raise errors.CommunityNotFound(f"community {community_id} does not exist") from None
        if claimed is not None:
            return None
        found = (
            await self._conn.execute(_RECORDED_OUTCOME, _key_params(community_id, key))
        ).first()
        if found is None:
            # Nothing inserted and nothing committed under the key: its lock was held, so the
            # first request is still running (a key already committed is replayed).
            raise errors.IdempotencyInFlight(
                "a request with this idempotency key is still in progress; retry shortly"
            )
        return StoredOutcome(found.fingerprint, found.result)

    async def store_idempotency_result(
        self, community_id: uuid.UUID, key: IdempotencyKey, result: bytes
    ) -> None:
        await self._conn.execute(
            _STORE_RESULT, {**_key_params(community_id, key), "b_result": result}
        )

    # Credentials ------------------------------------------------------------------------------

    async def insert_credential(self, credential: Credential, secret_hash: str) -> None:
        await self._conn.execute(
            credentials.insert().values(
                community_id=credential.community_id,
                id=credential.id,
                kind=credential.kind.value,
                name=credential.name,
                scopes=" ".join(sorted(credential.scopes)),
                member_id=credential.member_id,
                secret_hash=secret_hash,
                created_at=credential.created_at,
                expires_at=credential.expires_at,
                revoked_at=credential.revoked_at,
                last_used_at=credential.last_used_at,
            )
        )

    async def credential_by_secret_hash(self, secret_hash: str) -> Credential | None:
        row = (
            await self._conn.execute(
                sa.select(credentials).where(credentials.c.secret_hash == secret_hash)
            )
        ).first()
        return None if row is None else _credential(row)

    async def get_credential(
        self, community_id: uuid.UUID, credential_id: uuid.UUID
    ) -> Credential | None:
        row = (
            await self._conn.execute(
                sa.select(credentials).where(
                    credentials.c.community_id == community_id, credentials.c.id == credential_id
                )
            )
        ).first()
        return None if row is None else _credential(row)

    async def mark_credential(
        self,
        community_id: uuid.UUID,
        credential_id: uuid.UUID,
        *,
        last_used_at: datetime | None = None,
        revoked_at: datetime | None = None,
    ) -> None:
        values = {
            name: value
            for name, value in (("last_used_at", last_used_at), ("revoked_at", revoked_at))
            if value is not None
        }
        await self._conn.execute(
            credentials.update()
            .where(credentials.c.community_id == community_id, credentials.c.id == credential_id)
            .values(values)
        )

    # Helpers ----------------------------------------------------------------------------------

    async def _insert_unique(
        self, table: sa.Table, values: dict[str, Any], on_conflict: errors.LedgerError
    ) -> None:
        """Inserts a row whose only possible conflict is the one ``on_conflict`` describes;
        callers check the foreign keys first."""
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(table.insert().values(**values))
        except IntegrityError:
            raise on_conflict from None


def in_flight_lock_id(community_id: uuid.UUID, scope: str, key: str) -> int:
    """The advisory lock of an idempotency key while a transaction works under it."""
    digest = hashlib.sha256(f"{community_id}\x00{scope}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _key_params(community_id: uuid.UUID, key: IdempotencyKey) -> dict[str, Any]:
    return {"b_community_id": community_id, "b_scope": key.scope, "b_key": key.key}


def entry_row(entry: Entry) -> dict[str, Any]:
    """The ``entries`` row of an entry."""
    return {
        "community_id": entry.community_id,
        "id": entry.id,
        "status": entry.status.value,
        "effective_date": entry.effective_date,
        "description": entry.description,
        "kind": entry.kind,
        "metadata": entry.metadata,
        "created_at": entry.created_at,
        "completed_at": entry.completed_at,
        "reverses": entry.reverses,
    }


def posting_rows(entry: Entry) -> list[dict[str, Any]]:
    """The ``postings`` rows of an entry, numbered from 0."""
    return [
        {
            "community_id": entry.community_id,
            "entry_id": entry.id,
            "line": line,
            "account_id": posting.account_id,
            "commodity": posting.commodity,
            "amount": posting.amount,
            "effective_date": entry.effective_date,
        }
        for line, posting in enumerate(entry.postings)
    ]


def _counter_values(counters: Counters) -> dict[str, int]:
    return {name: getattr(counters, name) for name in _COUNTER_COLUMNS}


def _account(row: sa.Row[Any]) -> Account:
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
    )


def _credential(row: sa.Row[Any]) -> Credential:
    return Credential(
        community_id=row.community_id,
        id=row.id,
        kind=CredentialKind(row.kind),
        name=row.name,
        scopes=frozenset(Scope(name) for name in row.scopes.split()),
        member_id=row.member_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _entry(row: sa.Row[Any], entry_postings: tuple[Posting, ...]) -> Entry:
    return Entry(
        community_id=row.community_id,
        id=row.id,
        status=EntryStatus(row.status),
        effective_date=row.effective_date,
        description=row.description,
        kind=row.kind,
        metadata=row.metadata,
        created_at=row.created_at,
        completed_at=row.completed_at,
        reverses=row.reverses,
        postings=entry_postings,
    )


def _nearer_the_end(span: tuple[date, date], as_of: date) -> bool:
    """Whether fewer postings lie after ``as_of`` than on or before it, guessed from the dates
    of the first and last postings as if evenly spread (a guess: either way is exact)."""
    first, last = span
    return (last - as_of) < (as_of - first)
