"""What the service needs from persistence, stated without SQL.

``ledger.store`` implements these protocols with SQLAlchemy; tests may substitute their own (the
concurrency tests plug in a deliberately naive repository to prove they catch lost updates).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Protocol

from ledger.access.principals import Credential
from ledger.audit.ports import AuditRepository
from ledger.kernel import uow
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


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """What an idempotent write recorded under its key: the request fingerprint and the result
    (an encoded entry, or a rejection's code and detail)."""

    fingerprint: str
    result: bytes | None


class InFlight:
    """Marks a key another transaction is still working under (PostgreSQL)."""


IN_FLIGHT: Final = InFlight()

Claim = StoredOutcome | InFlight | None
"""What claiming a key found: nothing (claimed now), the outcome recorded under it, or a key
another transaction holds at this moment with nothing recorded under it yet."""


class LedgerRepository(Protocol):
    """Reads and writes of one unit of work. Every method is scoped by ``community_id``."""

    async def insert_community(self, community: Community) -> None: ...
    async def get_community(self, community_id: uuid.UUID) -> Community | None: ...
    async def get_community_by_slug(self, slug: str) -> Community | None: ...

    async def insert_commodity(self, commodity: Commodity) -> None: ...
    async def get_commodity(self, community_id: uuid.UUID, code: str) -> Commodity | None: ...
    async def list_commodities(self, community_id: uuid.UUID) -> Sequence[Commodity]: ...

    async def insert_member(self, member: Member) -> None: ...
    async def get_member(self, community_id: uuid.UUID, member_id: uuid.UUID) -> Member | None: ...
    async def list_members(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Member]: ...

    async def insert_account(self, account: Account) -> None: ...
    async def get_account(
        self, community_id: uuid.UUID, account_id: uuid.UUID, *, lock: bool = False
    ) -> Account | None: ...
    async def list_accounts(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None = None,
        after_code: str | None = None,
        limit: int | None = None,
    ) -> Sequence[Account]:
        """Accounts by code; of one member only when ``member_id`` is given."""
        ...

    async def lock_accounts(
        self, community_id: uuid.UUID, account_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Account]:
        """The community's accounts among ``account_ids``, each row locked for this unit of work,
        locks taken in ascending id order so that writers never deadlock."""
        ...

    async def update_account_details(self, account: Account) -> None:
        """Stores name, limits and the closed flag (never the counters)."""
        ...

    async def write_counters(
        self,
        community_id: uuid.UUID,
        counters_by_account: Mapping[uuid.UUID, Counters],
    ) -> None:
        """Stores the new counters of accounts locked by ``lock_accounts`` in this unit of work."""
        ...

    async def insert_entry(self, entry: Entry) -> None: ...
    async def get_entry(
        self, community_id: uuid.UUID, entry_id: uuid.UUID, *, lock: bool = False
    ) -> Entry | None: ...
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
        """Entries by id (recorded order; ``newest_first``: the reverse, ``after`` then the
        entry before which the page starts); only those touching ``account_ids``, of ``kind``,
        in ``status``, effective on ``effective_from`` or later and before ``effective_before``,
        and not undone by a posted reversal dated on or before ``not_reversed_by``, for each
        filter given."""
        ...

    async def complete_entry(
        self,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        status: EntryStatus,
        completed_at: datetime,
    ) -> None: ...
    async def reversal_of(self, community_id: uuid.UUID, entry_id: uuid.UUID) -> uuid.UUID | None:
        """The id of the entry that reverses ``entry_id``, if any."""
        ...

    async def counters_as_of(
        self, community_id: uuid.UUID, account_id: uuid.UUID, as_of: date
    ) -> Counters:
        """Counters summed from postings of entries effective on or before ``as_of``, by their
        status now."""
        ...

    async def statement(
        self,
        community_id: uuid.UUID,
        account: Account,
        *,
        after: StatementCursor | None,
        limit: int,
    ) -> Sequence[tuple[StatementLine, StatementCursor]]: ...

    async def counters_by_account_as_of(
        self, community_id: uuid.UUID, as_of: date
    ) -> Mapping[uuid.UUID, Counters]: ...

    async def claim_idempotency_key(
        self,
        community_id: uuid.UUID,
        key: IdempotencyKey,
        fingerprint: str,
        created_at: datetime,
    ) -> StoredOutcome | None:
        """Records the key for this unit of work and returns None, or, when the key is already
        recorded, returns what was stored under it. A key a concurrent unit of work holds with
        nothing recorded under it yet is ``idempotency_in_flight`` (PostgreSQL; SQLite's writers
        never overlap)."""
        ...

    async def store_idempotency_result(
        self, community_id: uuid.UUID, key: IdempotencyKey, result: bytes
    ) -> None: ...

    # The bulk statements of the entry write (``ledger.books.batches``): one round trip for any
    # number of entries, of one community or several (a group across communities).

    async def claim_keys(
        self, claims: Sequence[tuple[uuid.UUID, IdempotencyKey, str]], now: datetime
    ) -> list[Claim]:
        """Claims ``(community, key, fingerprint)`` triples (``(community, key)`` distinct); one
        result each, in order. A key another transaction holds is refused at once, never
        waited for, unless an outcome is recorded under it (then that outcome)."""
        ...

    async def lock_accounts_across(
        self, wanted: Mapping[uuid.UUID, Sequence[uuid.UUID]]
    ) -> Mapping[uuid.UUID, Mapping[uuid.UUID, Account]]:
        """``lock_accounts`` for each community of ``wanted`` (its account ids), all in
        (community, id) order: each community's accounts found."""
        ...

    async def write_counters_across(
        self, counters: Mapping[uuid.UUID, Mapping[uuid.UUID, Counters]]
    ) -> None:
        """``write_counters`` for each community of ``counters``."""
        ...

    async def insert_entries(self, entries: Sequence[Entry]) -> None: ...

    async def store_results(
        self, results: Sequence[tuple[uuid.UUID, IdempotencyKey, bytes]]
    ) -> None:
        """Records each ``(community, key)``'s outcome (keys claimed in this unit of work)."""
        ...


class CredentialRepository(Protocol):
    async def insert_credential(self, credential: Credential, secret_hash: str) -> None: ...
    async def credential_by_secret_hash(self, secret_hash: str) -> Credential | None: ...
    async def get_credential(
        self, community_id: uuid.UUID, credential_id: uuid.UUID
    ) -> Credential | None: ...
    async def unrevoked_credentials_of(
        self, community_id: uuid.UUID, member_id: uuid.UUID
    ) -> Sequence[Credential]:
        """The member's credentials (tokens and web sessions) not yet revoked."""
        ...

    async def mark_credential(
        self,
        community_id: uuid.UUID,
        credential_id: uuid.UUID,
        *,
        last_used_at: datetime | None = None,
        revoked_at: datetime | None = None,
    ) -> None: ...


class Repository(LedgerRepository, CredentialRepository, AuditRepository, Protocol):
    """Everything one unit of work can read and write."""


UnitOfWork = uow.UnitOfWork[Repository]
"""A unit of work of the books: every repository of one transaction."""

UnitOfWorkFactory = uow.UnitOfWorkFactory[Repository]
