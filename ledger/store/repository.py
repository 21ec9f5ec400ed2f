"""The unit of work's repository: one object answering every method of
``ledger.books.ports.Repository`` on the unit of work's connection, each by the repository of its
aggregate (``communities``, ``accounts``, ``entries``, ``balances``, ``idempotency``,
``credentials``, ``audit``; ``batches`` the bulk statements of the entry write), where that
aggregate's SQL lives. This module holds no SQL: it says
which repository answers what, and orders the one step that spans two of them (a counter write's
monitor events go into the write's audit record)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.access.principals import Credential
from ledger.audit import chain as audit
from ledger.audit import outbox
from ledger.books.ports import Claim, StoredOutcome
from ledger.kernel.model import (
    Account,
    Commodity,
    Community,
    Counters,
    Entry,
    EntryStatus,
    IdempotencyKey,
    Member,
    StatementCursor,
    StatementLine,
)
from ledger.store.accounts import SqlAccounts
from ledger.store.audit import SqlAuditStore
from ledger.store.balances import SqlBalances
from ledger.store.batches import SqlBatchStore
from ledger.store.communities import SqlCommunities
from ledger.store.credentials import SqlCredentials
from ledger.store.entries import SqlEntries
from ledger.store.idempotency import SqlIdempotency
from ledger.store.monitor_watch import SqlMonitorWatch

P = TypeVar("P")


class _Part(Generic[P]):
    """The repository of one aggregate on a :class:`SqlRepository`'s connection, built at its
    first use and then kept on the instance (a non-data descriptor: the instance's own attribute
    wins from then on). A unit of work uses one or a few of the nine, and building all of them
    up front cost ≈ 25 µs of CPU per unit of work — the balance read uses one.
    (``functools.cached_property`` takes a lock at every first use on Python 3.11.)"""

    def __init__(self, build: Callable[[AsyncConnection], P]) -> None:
        self._build = build
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, repository: Any, owner: type | None = None) -> P:
        part = self._build(repository._conn)
        setattr(repository, self._name, part)
        return part


class SqlRepository:
    """The ledger's repository over one connection inside one transaction.

    One step spans two aggregates, and its order is fixed here: ``write_counters`` writes the
    counters, then runs the balance-monitor watch, whose events go with the unit of work's next
    audit record (``append_audit``/``append_audit_many``), as the outbox promises: the event of a
    crossing is committed with the write that caused it. The use cases call the two as separate
    steps of the ``Repository`` port, which returns nothing from ``write_counters``, so the events
    wait between the calls in ``_more_events``, by community — owned by this object alone (one
    per unit of work), filled by ``write_counters`` only and emptied, for its community, by the
    next non-empty append only."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._more_events: dict[uuid.UUID, list[outbox.NewEvent]] = {}

    # Each aggregate's repository is built when the unit of work first needs it (``_Part``).
    _communities = _Part(SqlCommunities)
    _accounts = _Part(SqlAccounts)
    _entries = _Part(SqlEntries)
    _balances = _Part(SqlBalances)
    _idempotency = _Part(SqlIdempotency)
    _batch = _Part(SqlBatchStore)
    _credentials = _Part(SqlCredentials)
    _audit = _Part(SqlAuditStore)
    _monitors = _Part(SqlMonitorWatch)

    # The step that spans aggregates -----------------------------------------------------------

    async def write_counters(
        self, community_id: uuid.UUID, counters_by_account: Mapping[uuid.UUID, Counters]
    ) -> None:
        await self.write_counters_across({community_id: counters_by_account})

    async def write_counters_across(
        self, counters: Mapping[uuid.UUID, Mapping[uuid.UUID, Counters]]
    ) -> None:
        await self._accounts.write_counters_across(counters)
        found = await self._monitors.watch(counters)
        for community_id, events in found.items():
            self._more_events.setdefault(community_id, []).extend(events)

    async def append_audit(self, community_id: uuid.UUID, event: audit.AuditEvent) -> None:
        await self.append_audit_many(community_id, (event,))

    async def append_audit_many(
        self, community_id: uuid.UUID, events: Sequence[audit.AuditEvent]
    ) -> None:
        if not events:
            return
        await self._audit.append(community_id, events, self._more_events.pop(community_id, []))

    async def append_audit_across(
        self, events: Mapping[uuid.UUID, Sequence[audit.AuditEvent]]
    ) -> None:
        if len(events) > 1 and self._conn.dialect.name == "postgresql":
            found = {c: self._more_events.pop(c, []) for c in events if events[c]}
            await self._audit.append_across(events, found)
            return
        for community_id in sorted(events):  # each chain's head locked in community order
            await self.append_audit_many(community_id, events[community_id])

    async def lock_audit_heads(self, community_ids: Sequence[uuid.UUID]) -> None:
        await self._audit.lock_heads(community_ids)

    async def list_audit(
        self, community_id: uuid.UUID, *, after_seq: int, limit: int
    ) -> Sequence[audit.AuditRecord]:
        return await self._audit.list_audit(community_id, after_seq=after_seq, limit=limit)

    async def audit_head(self, community_id: uuid.UUID) -> tuple[int, str] | None:
        return await self._audit.audit_head(community_id)

    # Communities, commodities, members --------------------------------------------------------

    async def insert_community(self, community: Community) -> None:
        await self._communities.insert_community(community)

    async def get_community(self, community_id: uuid.UUID) -> Community | None:
        return await self._communities.get_community(community_id)

    async def get_community_by_slug(self, slug: str) -> Community | None:
        return await self._communities.get_community_by_slug(slug)

    async def insert_commodity(self, commodity: Commodity) -> None:
        await self._communities.insert_commodity(commodity)

    async def get_commodity(self, community_id: uuid.UUID, code: str) -> Commodity | None:
        return await self._communities.get_commodity(community_id, code)

    async def list_commodities(self, community_id: uuid.UUID) -> Sequence[Commodity]:
        return await self._communities.list_commodities(community_id)

    async def insert_member(self, member: Member) -> None:
        await self._communities.insert_member(member)

    async def get_member(self, community_id: uuid.UUID, member_id: uuid.UUID) -> Member | None:
        return await self._communities.get_member(community_id, member_id)

    async def list_members(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Member]:
        return await self._communities.list_members(community_id, after=after, limit=limit)

    # Accounts ---------------------------------------------------------------------------------

    async def insert_account(self, account: Account) -> None:
        await self._accounts.insert_account(account)

    async def get_account(
        self, community_id: uuid.UUID, account_id: uuid.UUID, *, lock: bool = False
    ) -> Account | None:
        return await self._accounts.get_account(community_id, account_id, lock=lock)

    async def list_accounts(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None = None,
        after_code: str | None = None,
        limit: int | None = None,
    ) -> Sequence[Account]:
        return await self._accounts.list_accounts(
            community_id, member_id=member_id, after_code=after_code, limit=limit
        )

    async def lock_accounts(
        self, community_id: uuid.UUID, account_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Account]:
        return await self._accounts.lock_accounts(community_id, account_ids)

    async def lock_accounts_across(
        self, wanted: Mapping[uuid.UUID, Sequence[uuid.UUID]]
    ) -> Mapping[uuid.UUID, Mapping[uuid.UUID, Account]]:
        return await self._accounts.lock_accounts_across(wanted)

    async def update_account_details(self, account: Account) -> None:
        await self._accounts.update_account_details(account)

    # Entries ----------------------------------------------------------------------------------

    async def insert_entry(self, entry: Entry) -> None:
        await self._entries.insert_entry(entry)

    async def get_entry(
        self, community_id: uuid.UUID, entry_id: uuid.UUID, *, lock: bool = False
    ) -> Entry | None:
        return await self._entries.get_entry(community_id, entry_id, lock=lock)

    async def list_entries(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
        account_ids: Sequence[uuid.UUID] | None = None,
        kind: str | None = None,
        status: EntryStatus | None = None,
        effective_from: date | None = None,
        effective_before: date | None = None,
        newest_first: bool = False,
        not_reversed_by: date | None = None,
    ) -> Sequence[Entry]:
        return await self._entries.list_entries(
            community_id,
            after=after,
            limit=limit,
            account_ids=account_ids,
            kind=kind,
            status=status,
            effective_from=effective_from,
            effective_before=effective_before,
            newest_first=newest_first,
            not_reversed_by=not_reversed_by,
        )

    async def complete_entry(
        self,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        status: EntryStatus,
        completed_at: datetime,
    ) -> None:
        await self._entries.complete_entry(community_id, entry_id, status, completed_at)

    async def reversal_of(self, community_id: uuid.UUID, entry_id: uuid.UUID) -> uuid.UUID | None:
        return await self._entries.reversal_of(community_id, entry_id)

    # Balances and statements ------------------------------------------------------------------

    async def counters_as_of(
        self, community_id: uuid.UUID, account_id: uuid.UUID, as_of: date
    ) -> Counters:
        return await self._balances.counters_as_of(community_id, account_id, as_of)

    async def counters_by_account_as_of(
        self, community_id: uuid.UUID, as_of: date
    ) -> Mapping[uuid.UUID, Counters]:
        return await self._balances.counters_by_account_as_of(community_id, as_of)

    async def summed_from_postings(
        self, community_id: uuid.UUID, as_of: date
    ) -> dict[uuid.UUID, Counters]:
        return await self._balances.summed_from_postings(community_id, as_of)

    async def statement(
        self,
        community_id: uuid.UUID,
        account: Account,
        *,
        after: StatementCursor | None,
        limit: int,
    ) -> Sequence[tuple[StatementLine, StatementCursor]]:
        return await self._balances.statement(community_id, account, after=after, limit=limit)

    # Idempotency ------------------------------------------------------------------------------

    async def claim_idempotency_key(
        self,
        community_id: uuid.UUID,
        key: IdempotencyKey,
        fingerprint: str,
        created_at: datetime,
    ) -> StoredOutcome | None:
        return await self._idempotency.claim_idempotency_key(
            community_id, key, fingerprint, created_at
        )

    async def store_idempotency_result(
        self, community_id: uuid.UUID, key: IdempotencyKey, result: bytes
    ) -> None:
        await self._idempotency.store_idempotency_result(community_id, key, result)

    # The bulk statements of the entry write ---------------------------------------------------

    async def claim_keys(
        self, claims: Sequence[tuple[uuid.UUID, IdempotencyKey, str]], now: datetime
    ) -> list[Claim]:
        return await self._idempotency.claim_across(claims, now)

    async def insert_entries(self, entries: Sequence[Entry]) -> None:
        await self._batch.insert_entries(entries)

    async def store_results(
        self, results: Sequence[tuple[uuid.UUID, IdempotencyKey, bytes]]
    ) -> None:
        await self._idempotency.store_across(results)

    # Credentials ------------------------------------------------------------------------------

    async def insert_credential(self, credential: Credential, secret_hash: str) -> None:
        await self._credentials.insert_credential(credential, secret_hash)

    async def credential_by_secret_hash(self, secret_hash: str) -> Credential | None:
        return await self._credentials.credential_by_secret_hash(secret_hash)

    async def get_credential(
        self, community_id: uuid.UUID, credential_id: uuid.UUID
    ) -> Credential | None:
        return await self._credentials.get_credential(community_id, credential_id)

    async def unrevoked_credentials_of(
        self, community_id: uuid.UUID, member_id: uuid.UUID
    ) -> Sequence[Credential]:
        return await self._credentials.unrevoked_credentials_of(community_id, member_id)

    async def mark_credential(
        self,
        community_id: uuid.UUID,
        credential_id: uuid.UUID,
        *,
        last_used_at: datetime | None = None,
        revoked_at: datetime | None = None,
    ) -> None:
        await self._credentials.mark_credential(
            community_id, credential_id, last_used_at=last_used_at, revoked_at=revoked_at
        )
