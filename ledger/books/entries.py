"""Entries: the use cases of ``Ledger`` that write, complete, reverse and read them, and the
building blocks for use cases that own their unit of work (``ledger.governance``).

Writes follow one shape: claim the idempotency key (if any), lock what the write touches in a
fixed order, run the pure checks of ``ledger.books.rules`` on the locked state, and only then write.
Because every check runs before the first write, a rejected request leaves the ledger exactly as
it was — only its outcome is recorded under its idempotency key, so a retry meets the same error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date

from ledger.books import rules
from ledger.books.batches import EntryBatches
from ledger.books.cases import UseCases, community_found
from ledger.books.ports import Repository, UnitOfWorkFactory
from ledger.books.writes import complete_pending, locked_entry, write_checked_entry
from ledger.kernel import errors
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.inputs import check_page_size
from ledger.kernel.model import (
    Account,
    Entry,
    EntryStatus,
    IdempotencyKey,
    Member,
    NewEntry,
)
from ledger.kernel.observer import LedgerEvents


class EntryCases(UseCases):
    """Writes, completes, reverses and reads entries."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock = utc_now,
        events: LedgerEvents | None = None,
        *,
        replica_reads: UnitOfWorkFactory | None = None,
    ) -> None:
        super().__init__(uow, clock, events, replica_reads=replica_reads)
        self._batches = EntryBatches(uow, clock, events)

    async def post_entry(
        self,
        community_id: uuid.UUID,
        entry: NewEntry,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Entry:
        """Writes ``entry`` whole — posted, or pending when ``entry.pending`` — or not at all.

        A batch of one (``EntryBatches.post_one``): group commit writes its groups on the same
        path, so a write answers the same alone or in company."""
        rules.check_entry(entry)  # before any transaction: a malformed request waits for none
        return await self._batches.post_one(community_id, entry, idempotency_key)

    async def post_pending(
        self,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Entry:
        """Posts a pending entry: its reservations become posted amounts. Exactly once."""
        return await self._complete(community_id, entry_id, EntryStatus.POSTED, idempotency_key)

    async def void_pending(
        self,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Entry:
        """Voids a pending entry: its reservations are released. Exactly once."""
        return await self._complete(community_id, entry_id, EntryStatus.VOIDED, idempotency_key)

    async def reverse(
        self,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        *,
        effective_date: date | None = None,
        description: str | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Entry:
        """A new posted entry that undoes a posted one. An entry is reversed at most once; the
        reversal meets the same rules as any entry (open accounts, limits)."""
        if description is not None:
            rules.check_description(description)
        rules.check_effective_date(effective_date)

        async def work(repo: Repository) -> Entry:
            original = await locked_entry(repo, community_id, entry_id)
            if original.status is not EntryStatus.POSTED:
                raise errors.EntryNotPosted(
                    f"entry {entry_id} is {original.status}; only a posted entry can be reversed"
                )
            if await repo.reversal_of(community_id, entry_id) is not None:
                raise errors.EntryAlreadyReversed(f"entry {entry_id} was already reversed")
            default = f"Reversal of {original.description or entry_id}"
            reversal = NewEntry(
                postings=rules.reversal_postings(original.postings),
                description=description or default[: rules.DESCRIPTION_MAX_CHARS],
                effective_date=effective_date,
                kind="reversal",
            )
            return await self._write_entry(repo, community_id, reversal, reverses=entry_id)

        request = [entry_id, effective_date, description]
        return await self._idempotent(community_id, "reverse", request, idempotency_key, work=work)

    async def get_entry(self, community_id: uuid.UUID, entry_id: uuid.UUID) -> Entry:
        async with self._uow(write=False) as uow:
            entry = await uow.repo.get_entry(community_id, entry_id)
        if entry is None:
            raise errors.EntryNotFound(f"entry {entry_id} does not exist")
        return entry

    async def list_entries(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None = None,
        limit: int = 50,
        account_ids: Sequence[uuid.UUID] | None = None,
        kind: str | None = None,
        status: EntryStatus | None = None,
        effective_from: date | None = None,
        effective_before: date | None = None,
        newest_first: bool = False,
        not_reversed_by: date | None = None,
    ) -> list[Entry]:
        """Entries in the order they were recorded, ``limit`` after the entry ``after``
        (``newest_first``: the reverse, ``limit`` before the entry ``after``); only those
        touching ``account_ids``, of ``kind``, in ``status``, effective from ``effective_from``
        and before ``effective_before``, and not undone by a posted reversal dated on or before
        ``not_reversed_by``, for each filter given."""
        check_page_size(limit)
        async with self._uow(write=False) as uow:
            found = await uow.repo.list_entries(
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
        return list(found)

    async def import_batch(
        self,
        community_id: uuid.UUID,
        members: Sequence[tuple[Member, Account]],
        entries: Sequence[NewEntry],
        progress: Callable[[int], object] = lambda _: None,
    ) -> list[Entry]:
        """Writes new members (from :func:`new_member`) and then entries, all in one
        transaction: every one, or — at the first rule an entry breaks — none. That error's
        ``context["item"]`` is the failing entry's index. ``progress`` hears of each item."""
        for index, spec in enumerate(entries):
            try:
                rules.check_entry(spec)
            except errors.LedgerError as exc:
                exc.context["item"] = index
                raise
        written: list[Entry] = []
        async with self._uow(write=True) as uow:
            repo = uow.repo
            community_found(await repo.get_community(community_id), community_id)
            for member, account in members:
                await repo.insert_member(member)
                await repo.insert_account(account)
                await repo.append_audit(
                    community_id, self._audit_event("import_member", None, member)
                )
                progress(1)
            for index, spec in enumerate(entries):
                try:
                    entry = await self._write_entry(repo, community_id, spec, reverses=None)
                except errors.LedgerError as exc:
                    exc.context["item"] = index
                    raise
                await repo.append_audit(
                    community_id, self._audit_event("import_entry", None, entry)
                )
                written.append(entry)
                progress(1)
            await uow.commit()
        return written

    async def _write_entry(
        self,
        repo: Repository,
        community_id: uuid.UUID,
        spec: NewEntry,
        *,
        reverses: uuid.UUID | None,
    ) -> Entry:
        return await write_checked_entry(repo, community_id, spec, self._clock, reverses=reverses)

    # Building blocks for use cases that own their unit of work (``ledger.governance``) ------

    async def write_entry_within(
        self, repo: Repository, community_id: uuid.UUID, spec: NewEntry
    ) -> Entry:
        """Writes ``spec`` inside the caller's unit of work, under every rule ``post_entry``
        keeps (the caller records idempotency and audit and commits)."""
        rules.check_entry(spec)
        return await self._write_entry(repo, community_id, spec, reverses=None)

    async def complete_within(
        self,
        repo: Repository,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        status: EntryStatus,
    ) -> Entry:
        """Posts or voids a pending entry inside the caller's unit of work; exactly once
        (``entry_not_pending`` otherwise)."""
        return await complete_pending(repo, community_id, entry_id, status, self._clock)

    async def _complete(
        self,
        community_id: uuid.UUID,
        entry_id: uuid.UUID,
        status: EntryStatus,
        key: IdempotencyKey | None,
    ) -> Entry:
        async def work(repo: Repository) -> Entry:
            return await complete_pending(repo, community_id, entry_id, status, self._clock)

        operation = "post_pending" if status is EntryStatus.POSTED else "void_pending"
        return await self._idempotent(community_id, operation, entry_id, key, work=work)
