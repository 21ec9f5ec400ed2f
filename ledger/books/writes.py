"""The one way an entry is built and written, shared by every writer: the use cases of
``Ledger``, batches and group commit, the economy, governance and the journal import.

An ``Entry`` is built from a request only by :func:`build_entry`, so that status, dates and
completion mean the same whichever path wrote it.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from ledger.books import rules
from ledger.books.ports import Repository
from ledger.kernel import errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import Entry, EntryStatus, NewEntry, Posting, new_id
from ledger.kernel.quantity import units_of


def build_entry(
    community_id: uuid.UUID,
    spec: NewEntry,
    postings: tuple[Posting, ...],
    now: datetime,
    *,
    entry_id: uuid.UUID | None = None,
    reverses: uuid.UUID | None = None,
) -> Entry:
    """The entry ``spec`` asks for, with its checked ``postings``, recorded at ``now``: pending
    or posted (completed at once), effective today unless the request names a date."""
    return Entry(
        community_id=community_id,
        id=new_id() if entry_id is None else entry_id,
        status=EntryStatus.PENDING if spec.pending else EntryStatus.POSTED,
        effective_date=spec.effective_date or now.date(),
        description=spec.description,
        kind=spec.kind,
        metadata=spec.metadata,
        created_at=now,
        completed_at=None if spec.pending else now,
        reverses=reverses,
        postings=postings,
    )


async def write_checked_entry(
    repo: Repository,
    community_id: uuid.UUID,
    spec: NewEntry,
    clock: Clock,
    *,
    reverses: uuid.UUID | None = None,
) -> Entry:
    """The one way a single entry is written, in the caller's unit of work: lock its accounts in
    id order, check it against the locked rows (``rules.validate_new_entry``), then insert it and
    store the accounts' new counters. ``spec`` has passed ``rules.check_entry``."""
    account_ids = sorted({p.account_id for p in spec.postings})
    accounts = await repo.lock_accounts(community_id, account_ids)
    postings, counters = rules.validate_new_entry(spec, accounts)
    entry = build_entry(community_id, spec, postings, clock(), reverses=reverses)
    await repo.insert_entry(entry)
    await repo.write_counters(community_id, counters)
    return entry


async def in_community_units(
    repo: Repository, community_id: uuid.UUID, error: errors.LedgerError
) -> errors.LedgerError:
    """``error`` with its amounts in the community's own units (``−35 h 30 min``, ``EUR 12.50``,
    ``4 jars of honey``). The pure checks know only HOURS; the commodities are read here, once
    a write has failed, so that a write that passes pays nothing for them."""
    if not error.shows_amounts:
        return error
    return error.in_units(units_of(await repo.list_commodities(community_id)))


async def locked_entry(repo: Repository, community_id: uuid.UUID, entry_id: uuid.UUID) -> Entry:
    """The entry, its row locked for the rest of the unit of work (``entry_not_found``)."""
    entry = await repo.get_entry(community_id, entry_id, lock=True)
    if entry is None:
        raise errors.EntryNotFound(f"entry {entry_id} does not exist")
    return entry


async def complete_pending(
    repo: Repository,
    community_id: uuid.UUID,
    entry_id: uuid.UUID,
    status: EntryStatus,
    clock: Clock,
) -> Entry:
    """Posts or voids a pending entry in the caller's unit of work; exactly once
    (``entry_not_pending`` otherwise)."""
    entry = await locked_entry(repo, community_id, entry_id)
    if entry.status is not EntryStatus.PENDING:
        raise errors.EntryNotPending(
            f"entry {entry_id} is already {entry.status}; only a pending entry completes"
        )
    transition = (
        rules.Transition.POST_PENDING
        if status is EntryStatus.POSTED
        else rules.Transition.VOID_PENDING
    )
    account_ids = sorted({p.account_id for p in entry.postings})
    accounts = await repo.lock_accounts(community_id, account_ids)
    counters = rules.apply_entry(entry.postings, transition, accounts)
    now = clock()
    await repo.complete_entry(community_id, entry_id, status, now)
    await repo.write_counters(community_id, counters)
    return replace(entry, status=status, completed_at=now)
