"""Entries written together, each atomic and idempotent on its own key: a batch request, a
group of single writes (``ledger.books.group_commit``), and a single write — ``Ledger.post_entry``
is a batch of one (``EntryBatches.post_one``), so an entry is written one way, alone or not.

A batch is one transaction. Items are taken in order, each checked against the state the items
before it left — exactly as if they had been posted one after another — so a rule one item
breaks rejects that item alone, and it writes nothing but its outcome under its key. The work is
shared where that changes nothing an item can observe: every key is claimed in one statement, the
accounts of the whole batch are locked once in id order (so batches and single writes never
deadlock), entries and postings are inserted in bulk, and each account's counters are written
once with the net of the batch. A group of several communities' writes (``post_across``) shares
the same statements across its communities, each community's items checked on its own accounts
(``ledger.books.batch_parts``).

Guarantees (tests/ledger/test_batches.py, tests/api/test_batches.py):
- an item under a key that is already recorded — by an earlier batch or a single write of the
  same entry — answers that recorded outcome and writes nothing; the same key with a different
  entry is ``idempotency_conflict``; a key repeated inside one batch follows its first item;
- an item refused by the checks that need no database (``rules.check_entry``) claims nothing;
- limits hold across the items of a batch as they do across separate requests;
- every item that takes effect gets its own audit record (operation ``post_entry``), in the same
  transaction;
- after the commit, the observer hears of each item a recorded outcome answered under its own
  request (a replay, of a result or of a rejection) and then of each entry written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ledger.audit import chain as audit
from ledger.books.batch_parts import OPERATION, ItemOutcome, Part, Write
from ledger.books.ports import Claim, UnitOfWork, UnitOfWorkFactory
from ledger.books.writes import in_community_units
from ledger.kernel import errors
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.model import Entry, IdempotencyKey, NewEntry, new_id
from ledger.kernel.observer import LedgerEvents, NoEvents
from ledger.kernel.uow import run_write

ITEMS_MAX: Final = 1000
"""Largest batch: bounds the transaction's length and the locks it holds."""


@dataclass(frozen=True, slots=True)
class BatchItem:
    entry: NewEntry
    idempotency_key: str


class EntryBatches:
    """Writes entries in one transaction each call: a batch, a group of single writes (group
    commit), or one write (``Ledger.post_entry``: a batch of one). ``events`` hears of every
    write that took effect and every replay, after the commit."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock = utc_now,
        events: LedgerEvents | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._events: LedgerEvents = events or NoEvents()

    async def post_entries(
        self, community_id: uuid.UUID, scope: str, items: Sequence[BatchItem]
    ) -> list[ItemOutcome]:
        """Writes each item's entry, or records why not; one outcome per item, in order.
        ``scope`` is the caller's idempotency scope (``Principal.idempotency_scope``)."""
        if not 1 <= len(items) <= ITEMS_MAX:
            raise errors.InvalidInput(f"a batch has 1 to {ITEMS_MAX} items, got {len(items)}")
        return await self.post_each(
            community_id,
            [Write(item.entry, IdempotencyKey(scope, item.idempotency_key)) for item in items],
        )

    async def post_one(
        self, community_id: uuid.UUID, entry: NewEntry, key: IdempotencyKey | None = None
    ) -> Entry:
        """Writes ``entry`` under ``key`` (or none) as a batch of one: the single write,
        ``Ledger.post_entry``. Raises the rule it broke, or the outcome recorded under ``key``."""
        [outcome] = await self.post_each(community_id, [Write(entry, key)])
        if outcome.error is not None:
            raise outcome.error
        assert outcome.entry is not None
        return outcome.entry

    async def post_each(
        self, community_id: uuid.UUID, writes: Sequence[Write]
    ) -> list[ItemOutcome]:
        """Writes each entry as ``Ledger.post_entry`` would under its key (or none; keys and
        actors of several callers may mix), in order, in one transaction: one outcome each."""
        [outcomes] = await self.post_across([(community_id, writes)])
        return outcomes

    async def post_across(
        self, parts: Sequence[tuple[uuid.UUID, Sequence[Write]]]
    ) -> list[list[ItemOutcome]]:
        """``post_each`` for several communities' writes (``parts``, a community at most once)
        in one transaction: one list of outcomes per part, in the order of ``parts``.

        Each statement takes every community at once — one claim of all the keys, one lock of
        all the accounts, one insert, one write of the counters and of the outcomes — and each
        community's items are checked on its own accounts, as ``post_each`` checks one
        community's. Locks go in one global order: every account in (community, id) order,
        then each audit chain's head in community order. Every writer of one community takes
        its accounts before its head, so transactions that span several communities — in this
        process or another — never deadlock with each other or with single writes."""
        if len({community_id for community_id, _ in parts}) != len(parts):
            raise ValueError("a community appears in two parts")
        batches = [Part(community_id, writes) for community_id, writes in parts]
        ordered = sorted(batches, key=_community)

        async def transaction(uow: UnitOfWork) -> None:
            await self._write(uow, ordered)
            await uow.commit()

        # The whole transaction in one piece: on SQLite one hand-off to the database's thread.
        await run_write(self._uow, transaction)
        answers = [part.answers() for part in batches]
        for part in batches:
            self._notify(part.replays(), part.fresh)
        return answers

    def _notify(self, replays: int, fresh: Sequence[ItemOutcome]) -> None:
        """Tells the observer of each replay and then of each entry written."""
        for _ in range(replays):
            self._events.replayed(OPERATION)
        for outcome in fresh:
            if outcome.entry is not None:
                self._events.written(OPERATION, outcome.entry)

    async def _write(self, uow: UnitOfWork, parts: Sequence[Part]) -> None:
        """Claims every part's keys, then checks each part's items (those their keys leave to
        write) in order on the locked accounts, then writes what passed and every outcome under
        its key; ``parts`` in community id order."""
        repo, now = uow.repo, self._clock()
        claims = [claim for part in parts for claim in part.to_claim()]
        found: Sequence[Claim] = await repo.claim_keys(claims, now) if claims else []
        for part in parts:
            found = part.claimed_as(found)
        wanted = {part.community_id: part.account_ids() for part in parts}
        locked = await repo.lock_accounts_across({c: ids for c, ids in wanted.items() if ids})
        # Ids of one millisecond are not ordered among themselves; sorted, they list the entries
        # in the order of their items.
        ids = iter(sorted(new_id() for part in parts for _ in part.live))
        for part in parts:
            accounts = dict(locked.get(part.community_id, {}))
            for failed in part.check(accounts, now, ids):
                exc = await in_community_units(repo, part.community_id, failed.error)
                part.refused(failed.index, exc)
        written = {part.community_id: part.written() for part in parts}
        await repo.insert_entries([entry for each in written.values() for entry, _ in each])
        counters = {part.community_id: new for part in parts if (new := part.counters())}
        if counters:
            await repo.write_counters_across(counters)
        await repo.store_results([result for part in parts for result in part.results()])
        await repo.append_audit_across(
            {
                community_id: [
                    audit.event(
                        OPERATION,
                        None if item.key is None else item.key.key,
                        entry,
                        now,
                        item.context,
                    )
                    for entry, item in each
                ]
                for community_id, each in written.items()
                if each
            }
        )


def _community(part: Part) -> uuid.UUID:
    return part.community_id


__all__ = ["ITEMS_MAX", "OPERATION", "BatchItem", "EntryBatches", "ItemOutcome", "Write"]
