"""Entries written together, each atomic and idempotent on its own key: a batch request, a
group of single writes (``ledger.books.group_commit``), and a single write — ``Ledger.post_entry``
is a batch of one (``EntryBatches.post_one``), so an entry is written one way, alone or not.

A batch is one transaction. Items are taken in order, each checked against the state the items
before it left — exactly as if they had been posted one after another — so a rule one item
breaks rejects that item alone, and it writes nothing but its outcome under its key. The work is
shared where that changes nothing an item can observe: every key is claimed in one statement, the
accounts of the whole batch are locked once in id order (so batches and single writes never
deadlock), entries and postings are inserted in bulk, and each account's counters are written
once with the net of the batch.

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
from dataclasses import dataclass, replace
from typing import Final

from ledger.audit import chain as audit
from ledger.books import idempotency, rules
from ledger.books.ports import Claim, InFlight, StoredOutcome, UnitOfWork, UnitOfWorkFactory
from ledger.books.writes import build_entry, in_community_units
from ledger.kernel import errors
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.model import (
    Account,
    Entry,
    IdempotencyKey,
    NewEntry,
    new_id,
)
from ledger.kernel.observer import LedgerEvents, NoEvents
from ledger.kernel.uow import run_write

ITEMS_MAX: Final = 1000
"""Largest batch: bounds the transaction's length and the locks it holds."""
OPERATION: Final = "post_entry"
"""Items are fingerprinted and audited as single ``post_entry`` writes, so a key means the same
in a batch as in a single request."""


@dataclass(frozen=True, slots=True)
class BatchItem:
    entry: NewEntry
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Write:
    """One entry to write as ``Ledger.post_entry`` would: under its caller's key, if any, and
    recorded in the audit trail as its caller's (``context``; by default the current one)."""

    entry: NewEntry
    key: IdempotencyKey | None = None
    context: audit.AuditContext | None = None


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """The entry an item wrote (or first wrote, when replayed), or the rule it broke."""

    entry: Entry | None = None
    error: errors.LedgerError | None = None


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

        The communities are written one after the other in the order of their ids, each as
        ``post_each`` writes one: its keys, its accounts, its inserts, then its audit chain's
        head. Every writer takes a community's locks in that order (keys, accounts, head), so
        taking whole communities in one global order keeps transactions that span several —
        in this process or another — from deadlocking with each other or with single
        writes."""
        if len({community_id for community_id, _ in parts}) != len(parts):
            raise ValueError("a community appears in two parts")
        batches = [_Part(self, community_id, writes) for community_id, writes in parts]

        async def transaction(uow: UnitOfWork) -> None:
            for part in sorted(batches, key=_community):
                await part.write(uow)
            await uow.commit()

        # The whole transaction in one piece: on SQLite one hand-off to the database's thread.
        await run_write(self._uow, transaction)
        answers = [part.answers() for part in batches]
        for part in batches:
            part.notify()
        return answers

    def _notify(self, replays: int, fresh: Sequence[ItemOutcome]) -> None:
        """Tells the observer of each replay and then of each entry written."""
        for _ in range(replays):
            self._events.replayed(OPERATION)
        for outcome in fresh:
            if outcome.entry is not None:
                self._events.written(OPERATION, outcome.entry)

    async def _write(
        self,
        uow: UnitOfWork,
        community_id: uuid.UUID,
        items: Sequence[Write],
    ) -> list[ItemOutcome]:
        """Checks ``items`` (their keys claimed) in order on the batch's locked accounts, then
        writes what passed and every outcome under its key."""
        repo = uow.repo
        account_ids = sorted({p.account_id for item in items for p in item.entry.postings})
        accounts: dict[uuid.UUID, Account] = (
            dict(await repo.lock_accounts(community_id, account_ids)) if account_ids else {}
        )
        now = self._clock()
        # Ids of one millisecond are not ordered among themselves; sorted, they list the entries
        # in the order of their items.
        ids = iter(sorted(new_id() for _ in items))
        outcomes: list[ItemOutcome] = []
        results: list[tuple[IdempotencyKey, bytes]] = []
        touched: dict[uuid.UUID, Account] = {}
        for item in items:
            try:
                postings, counters = rules.validate_new_entry(item.entry, accounts)
            except errors.LedgerError as failed:
                exc = await in_community_units(repo, community_id, failed)
                outcomes.append(ItemOutcome(error=exc))
                if item.key is not None:
                    results.append((item.key, idempotency.encode_rejection(exc)))
                continue
            for account_id, new in counters.items():
                accounts[account_id] = touched[account_id] = replace(
                    accounts[account_id], counters=new
                )
            entry = build_entry(community_id, item.entry, postings, now, entry_id=next(ids))
            outcomes.append(ItemOutcome(entry=entry))
            if item.key is not None:
                results.append((item.key, idempotency.encode_result(entry)))
        written = [(o.entry, item) for o, item in zip(outcomes, items, strict=True) if o.entry]
        await repo.insert_entries([entry for entry, _ in written])
        if touched:
            await repo.write_counters(
                community_id, {a.id: a.counters for a in sorted(touched.values(), key=_id)}
            )
        await repo.store_results(community_id, results)
        await repo.append_audit_many(
            community_id,
            [
                audit.event(
                    OPERATION, None if item.key is None else item.key.key, entry, now, item.context
                )
                for entry, item in written
            ],
        )
        return outcomes


class _Part:
    """One community's writes in a transaction of ``EntryBatches.post_across``: checked
    before it, claimed and written in it, answered after its commit."""

    def __init__(
        self, batches: EntryBatches, community_id: uuid.UUID, writes: Sequence[Write]
    ) -> None:
        self.batches, self.community_id, self.writes = batches, community_id, writes
        self.outcomes: list[ItemOutcome | None] = [None] * len(writes)
        self.prints = [idempotency.fingerprint(OPERATION, write.entry) for write in writes]
        self.first: dict[IdempotencyKey, int] = {}
        self.live: list[int] = []
        for index, write in enumerate(writes):
            try:
                rules.check_entry(write.entry)
            except errors.LedgerError as exc:
                self.outcomes[index] = ItemOutcome(error=exc)
                continue
            if write.key is None:
                self.live.append(index)
            else:
                self.first.setdefault(write.key, index)
        self.claimed = list(self.first.values())
        self.found: list[Claim] = []
        self.recorded: list[Claim] = []
        self.fresh: list[ItemOutcome] = []

    async def write(self, uow: UnitOfWork) -> None:
        """Claims the keys and writes what they leave to write, in ``uow``."""
        writes, outcomes, live = self.writes, self.outcomes, list(self.live)
        self.found = list(
            await uow.repo.claim_keys(
                self.community_id,
                [(_keyed(writes[i].key), self.prints[i]) for i in self.claimed],
                self.batches._clock(),
            )
        )
        for index, claim in zip(self.claimed, self.found, strict=True):
            if claim is None:
                live.append(index)
            else:
                outcomes[index] = _recorded(claim, self.prints[index])
        live.sort()
        self.fresh = await self.batches._write(uow, self.community_id, [writes[i] for i in live])
        for index, outcome in zip(live, self.fresh, strict=True):
            outcomes[index] = outcome

    def answers(self) -> list[ItemOutcome]:
        """Every write's outcome, once committed: a key repeated in the part follows its first
        write."""
        claims = dict(zip(self.claimed, self.found, strict=True))
        self.recorded = [None] * len(self.writes)
        outcomes = self.outcomes
        for index, write in enumerate(self.writes):
            if index in claims:
                self.recorded[index] = claims[index]
            elif outcomes[index] is None:  # a key repeated in the batch
                leader = self.first[_keyed(write.key)]
                self.recorded[index] = claims[leader]
                outcomes[index] = _follower(
                    claims[leader], outcomes[leader], self.prints, leader, index
                )
        done = [outcome for outcome in outcomes if outcome is not None]
        assert len(done) == len(self.writes)
        return done

    def notify(self) -> None:
        self.batches._notify(_replays(self.recorded, self.prints), self.fresh)


def _community(part: _Part) -> uuid.UUID:
    return part.community_id


def _follower(
    recorded: Claim,
    first: ItemOutcome | None,
    prints: Sequence[str],
    leader: int,
    index: int,
) -> ItemOutcome:
    """The outcome of an item whose key an earlier item of the batch (``leader``) claimed: an
    outcome recorded before the batch answers it as it answered the leader, by its own
    fingerprint; else it is the leader's outcome for the same request, a conflict for another."""
    if recorded is not None:
        return _recorded(recorded, prints[index])
    if prints[leader] == prints[index]:
        assert first is not None
        return first
    return ItemOutcome(error=_conflict())


def _replays(recorded: Sequence[Claim], prints: Sequence[str]) -> int:
    """How many items a recorded outcome answered under their own request's fingerprint — its
    result or its rejection: a replay, as the single write counts one (a different request
    under the key is a conflict, no replay)."""
    return sum(
        1
        for claim, fingerprint in zip(recorded, prints, strict=True)
        if isinstance(claim, StoredOutcome) and claim.fingerprint == fingerprint
    )


def _keyed(key: IdempotencyKey | None) -> IdempotencyKey:
    assert key is not None, "only keyed writes are claimed"
    return key


def _id(account: Account) -> uuid.UUID:
    return account.id


def _conflict() -> errors.IdempotencyConflict:
    return errors.IdempotencyConflict(
        "this idempotency key was already used with a different request"
    )


def _recorded(claim: StoredOutcome | InFlight, fingerprint: str) -> ItemOutcome:
    if isinstance(claim, InFlight):
        return ItemOutcome(
            error=errors.IdempotencyInFlight(
                "a request with this idempotency key is still in progress; retry shortly"
            )
        )
    try:
        return ItemOutcome(entry=idempotency.replay(claim, fingerprint, Entry))
    except errors.LedgerError as exc:
        return ItemOutcome(error=exc)
