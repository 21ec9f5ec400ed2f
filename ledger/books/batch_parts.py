"""One community's writes in a transaction of ``EntryBatches`` (``ledger.books.batches``): what
each write asks, what its key's claim found, what the checks on the locked accounts let through
and what each write answers — kept per community, so that a transaction that writes several
communities at once still checks and answers each community's items as if it were alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from ledger.audit import chain as audit
from ledger.books import idempotency, rules
from ledger.books.ports import Claim, InFlight, StoredOutcome
from ledger.books.writes import build_entry
from ledger.kernel import errors
from ledger.kernel.model import Account, Counters, Entry, IdempotencyKey, NewEntry

OPERATION: Final = "post_entry"
"""Items are fingerprinted and audited as single ``post_entry`` writes, so a key means the same
in a batch as in a single request."""


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


@dataclass(frozen=True, slots=True)
class Refusal:
    """A write the checks on the locked accounts refused (``index``: its place in the part)."""

    index: int
    error: errors.LedgerError


class Part:
    """One community's writes: checked before the transaction (``rules.check_entry``), claimed,
    checked on the locked accounts and written in it, answered after its commit."""

    def __init__(self, community_id: uuid.UUID, writes: Sequence[Write]) -> None:
        self.community_id, self.writes = community_id, writes
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
        self._entries: dict[int, Entry] = {}
        self._results: dict[int, bytes] = {}
        self._touched: dict[uuid.UUID, Account] = {}

    def to_claim(self) -> list[tuple[uuid.UUID, IdempotencyKey, str]]:
        """The part's keys, each once (its first write's), with the fingerprints to claim."""
        return [
            (self.community_id, _keyed(self.writes[i].key), self.prints[i]) for i in self.claimed
        ]

    def claimed_as(self, found: Sequence[Claim]) -> Sequence[Claim]:
        """Takes the part's claims from the front of ``found``; returns the rest. A key with an
        outcome recorded (or in flight) answers so; the others' writes go on."""
        self.found, rest = list(found[: len(self.claimed)]), found[len(self.claimed) :]
        for index, claim in zip(self.claimed, self.found, strict=True):
            if claim is None:
                self.live.append(index)
            else:
                self.outcomes[index] = _recorded(claim, self.prints[index])
        self.live.sort()
        return rest

    def account_ids(self) -> list[uuid.UUID]:
        """The accounts the writes still to write touch, in id order."""
        return sorted({p.account_id for i in self.live for p in self.writes[i].entry.postings})

    def check(
        self, accounts: dict[uuid.UUID, Account], now: datetime, ids: Iterator[uuid.UUID]
    ) -> list[Refusal]:
        """Checks each write still to write in order on ``accounts`` (this community's, locked;
        each write sees what the ones before it left), builds the entries of those that pass
        and returns the refused ones (``refused`` records each)."""
        refusals: list[Refusal] = []
        for index in self.live:
            write = self.writes[index]
            entry_id = next(ids)
            try:
                postings, counters = rules.validate_new_entry(write.entry, accounts)
            except errors.LedgerError as failed:
                refusals.append(Refusal(index, failed))
                continue
            for account_id, new in counters.items():
                accounts[account_id] = self._touched[account_id] = replace(
                    accounts[account_id], counters=new
                )
            entry = build_entry(self.community_id, write.entry, postings, now, entry_id=entry_id)
            self._entries[index] = entry
            self.outcomes[index] = ItemOutcome(entry=entry)
            if write.key is not None:
                self._results[index] = idempotency.encode_result(entry)
        return refusals

    def refused(self, index: int, error: errors.LedgerError) -> None:
        """The write at ``index`` answers ``error`` (in the community's units), recorded under
        its key."""
        self.outcomes[index] = ItemOutcome(error=error)
        if self.writes[index].key is not None:
            self._results[index] = idempotency.encode_rejection(error)

    def written(self) -> list[tuple[Entry, Write]]:
        """The entries that passed, with their writes, in order."""
        return [(self._entries[i], self.writes[i]) for i in sorted(self._entries)]

    def counters(self) -> dict[uuid.UUID, Counters]:
        """The new counters of the accounts the entries touched, in id order."""
        return {a: self._touched[a].counters for a in sorted(self._touched)}

    def results(self) -> list[tuple[uuid.UUID, IdempotencyKey, bytes]]:
        """Each claimed key's outcome, to record under it, in order."""
        return [
            (self.community_id, _keyed(self.writes[i].key), self._results[i])
            for i in sorted(self._results)
        ]

    def answers(self) -> list[ItemOutcome]:
        """Every write's outcome, once committed: a key repeated in the part follows its first
        write."""
        self.fresh = [outcome for i in self.live if (outcome := self.outcomes[i]) is not None]
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

    def replays(self) -> int:
        """How many writes a recorded outcome answered under their own request's fingerprint —
        its result or its rejection: a replay, as the single write counts one (a different
        request under the key is a conflict, no replay)."""
        return sum(
            1
            for claim, fingerprint in zip(self.recorded, self.prints, strict=True)
            if isinstance(claim, StoredOutcome) and claim.fingerprint == fingerprint
        )


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


def _keyed(key: IdempotencyKey | None) -> IdempotencyKey:
    assert key is not None, "only keyed writes are claimed"
    return key


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
