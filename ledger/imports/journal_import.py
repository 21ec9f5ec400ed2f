"""Bulk import of historical entries (``commons-ledger import-journal``): every rule checked in
Python first, then everything written in one transaction with bulk statements.

Guarantees:
- Nothing is written unless every entry of the file passes every rule ``post_entry`` keeps:
  a valid date, text description and kind, a JSON-object metadata, at least 2 postings, non-zero
  integer amounts, existing open accounts, the commodity the file names (if any) being the
  account's, each commodity balancing, no counter overflow — and every account staying within
  its ``balance_min``/``balance_max`` at every step of the history, replayed in date order (file
  order within a date) on the accounts' current counters, locked.
- Otherwise problems name the file line of each bad entry — all of them, as ``import-csv`` does —
  with amounts in the commodity's own unit (``EUR 12.50``, ``−2 h``) and the raw integers kept
  in each problem's ``members``, as the API's problem details keep them.
- The touched accounts' rows are locked in id order (the order every writer uses) before the
  replay, so concurrent writes wait for the import, or the import for them: balances stay exact.
  Each account's counters are then written once, with the net of the whole file.
- A file is imported at most once: its SHA-256 is an idempotency key (scope
  :data:`IDEMPOTENCY_SCOPE`); a re-run finds it and writes nothing.
- One audit record, operation ``import_journal``, records the import (idempotency key: the file's
  SHA-256; result ids: ``entries=N`` and ``postings=M``) — not one per entry. So the event outbox
  emits no per-entry events for an imported history.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Protocol

import msgspec

from ledger.audit import chain as audit
from ledger.books import rules
from ledger.books.ports import UnitOfWork, UnitOfWorkFactory
from ledger.books.writes import build_entry
from ledger.imports.journal_format import FileEntry, ParsedJournal
from ledger.imports.spreadsheet import RowError
from ledger.kernel import errors
from ledger.kernel.model import (
    COUNTER_MAX,
    Account,
    Counters,
    Entry,
    IdempotencyKey,
    NewEntry,
    Posting,
    PostingSpec,
)
from ledger.kernel.quantity import Units, units_of

OPERATION: Final = "import_journal"
IDEMPOTENCY_SCOPE: Final = "operator:import_journal"


class JournalWriter(Protocol):
    """Bulk inserts on a unit of work's transaction (``ledger.store.journal_import``)."""

    async def start(self, community_id: uuid.UUID, locked: Sequence[uuid.UUID]) -> None:
        """Before the first insert; ``locked``: the accounts held FOR UPDATE."""

    async def insert(self, written: Sequence[Entry]) -> None: ...

    async def finish(self) -> None:
        """After the last insert, before anything else is written: whatever the bulk path owes
        the schema's guards (it raises, rolling the transaction back, if a row breaks one)."""


class JournalSummary(msgspec.Struct, frozen=True):
    """What an import wrote (or, when ``already_imported``, what the first run of it wrote)."""

    sha256: str
    entries: int
    postings: int
    already_imported: bool = False


class JournalRefused(errors.InvalidInput):
    """The file breaks a rule; nothing was written. ``problems`` name every bad line."""

    def __init__(self, problems: Sequence[RowError]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class JournalPlan:
    entries: list[tuple[FileEntry, NewEntry, tuple[Posting, ...]]]
    """In file order, with accounts resolved."""
    counters: dict[uuid.UUID, Counters]
    """Each touched account's counters after the whole file."""


def _refused(source: str, line: int, error: errors.LedgerError, units: Units | None) -> RowError:
    """``error`` as a problem of the file's ``line``, in people's words with ``units``."""
    return RowError(source, line, error.in_units(units).detail, dict(error.members))


def plan(
    parsed: ParsedJournal, accounts: Mapping[str, Account], units: Units | None = None
) -> tuple[JournalPlan, list[RowError]]:
    """Checks ``parsed`` against ``accounts`` (by code, with the counters they hold now);
    ``units``, the community's, word the problems' amounts."""
    problems = list(parsed.problems)
    if not parsed.entries and not problems:
        problems.append(RowError(parsed.source, 1, "the file holds no entry"))
    by_id = {account.id: account for account in accounts.values()}
    resolved: list[tuple[FileEntry, NewEntry, tuple[Posting, ...]]] = []
    for found in parsed.entries:
        try:
            resolved.append((found, *_resolve(found, accounts, by_id)))
        except errors.LedgerError as exc:
            problems.append(_refused(parsed.source, found.line, exc, units))
    counters, breaches = replay(resolved, by_id, parsed.source, units)
    problems += breaches
    problems.sort(key=lambda problem: problem.line)
    return JournalPlan(resolved, counters), problems


def _resolve(
    found: FileEntry, accounts: Mapping[str, Account], by_id: Mapping[uuid.UUID, Account]
) -> tuple[NewEntry, tuple[Posting, ...]]:
    specs = []
    for posting in found.postings:
        account = accounts.get(posting.account_code)
        if account is None:
            raise errors.AccountNotFound(f"no account has the code {posting.account_code!r}")
        if posting.commodity is not None and posting.commodity != account.commodity:
            raise errors.InvalidInput(
                f"account {account.code!r} holds {account.commodity}, not {posting.commodity}"
            )
        specs.append(PostingSpec(account.id, posting.amount))
    spec = NewEntry(
        postings=tuple(specs),
        description=found.description,
        effective_date=found.effective_date,
        kind=found.kind,
        metadata=found.metadata,
    )
    rules.check_entry(spec)
    return spec, rules.check_accounts(spec, by_id)


def replay(
    resolved: Sequence[tuple[FileEntry, NewEntry, tuple[Posting, ...]]],
    accounts: Mapping[uuid.UUID, Account],
    source: str,
    units: Units | None = None,
) -> tuple[dict[uuid.UUID, Counters], list[RowError]]:
    """Applies the entries in date order (file order within a date) to the accounts' counters,
    checking each touched account's limits after every entry; returns the final counters and the
    first breach of each account (later ones would only follow from it)."""
    totals = {account_id: [0, 0] for account_id in accounts}
    # Posted amounts move ``available`` and ``ceiling`` alike, by the normal-direction change
    # ``sign * (debits - credits)``: so each limit is a bound on that change, from the counters
    # the accounts hold now (pending reservations included), and the loop compares integers.
    bounds = {
        account.id: (account.type.normal_sign, *_room(account))
        for account in accounts.values()
        if account.balance_min is not None or account.balance_max is not None
    }
    breached: dict[uuid.UUID, RowError] = {}
    for found, _, entry_postings in sorted(resolved, key=lambda item: item[0].effective_date):
        for posting in entry_postings:
            totals[posting.account_id][0 if posting.amount > 0 else 1] += abs(posting.amount)
        for account_id in {p.account_id for p in entry_postings if p.account_id in bounds}:
            sign, lowest, highest = bounds[account_id]
            debits, credits = totals[account_id]
            moved = sign * (debits - credits)
            if account_id in breached or (
                (lowest is None or moved >= lowest) and (highest is None or moved <= highest)
            ):
                continue
            breached[account_id] = _breach(
                accounts[account_id], debits, credits, found, source, units=units
            )
    final = {}
    for account_id, (debits, credits) in sorted(totals.items()):
        if not (debits or credits):
            continue
        counters = accounts[account_id].counters
        final[account_id] = replace(
            counters,
            debits_posted=counters.debits_posted + debits,
            credits_posted=counters.credits_posted + credits,
        )
        if max(final[account_id].debits_posted, final[account_id].credits_posted) > COUNTER_MAX:
            detail = f"account {accounts[account_id].code!r}: a balance counter would overflow"
            breached.setdefault(account_id, RowError(source, 1, detail))
    return final, list(breached.values())


def _room(account: Account) -> tuple[int | None, int | None]:
    """How far the account's balance may move down and up from now, within its limits."""
    balance = account.balance
    low, high = account.balance_min, account.balance_max
    return (
        None if low is None else low - balance.available,
        None if high is None else high - balance.ceiling,
    )


def _breach(
    account: Account,
    debits: int,
    credits: int,
    found: FileEntry,
    source: str,
    *,
    units: Units | None,
) -> RowError:
    counters = replace(
        account.counters,
        debits_posted=account.counters.debits_posted + debits,
        credits_posted=account.counters.credits_posted + credits,
    )
    try:
        rules.check_limits(account, counters)
    except errors.LimitExceeded as exc:
        problem = _refused(source, found.line, exc, units)
        where = f"account {account.code!r} on {found.effective_date}"
        return replace(problem, reason=f"{problem.reason} ({where})")
    raise AssertionError("a bound was crossed but the limits hold")  # pragma: no cover


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class JournalImport:
    """The use case. ``writer`` gives the bulk statements on a unit of work's transaction."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        writer: Callable[[UnitOfWork], JournalWriter],
        clock: Callable[[], datetime],
    ) -> None:
        self._uow = uow
        self._writer = writer
        self._clock = clock

    async def run(
        self,
        community_id: uuid.UUID,
        parsed: ParsedJournal,
        sha256: str,
        progress: Callable[[int], object] = lambda _: None,
    ) -> JournalSummary:
        """Imports ``parsed`` (the file whose SHA-256 is ``sha256``) whole, or raises
        :class:`JournalRefused` having written nothing. ``progress`` hears of entries written."""
        key = IdempotencyKey(IDEMPOTENCY_SCOPE, sha256)
        async with self._uow(write=True) as uow:
            repo = uow.repo
            now = self._clock()
            stored = await repo.claim_idempotency_key(community_id, key, sha256, now)
            if stored is not None:
                first = msgspec.json.decode(stored.result or b"{}", type=_Stored)
                return replace_summary(first.result, already_imported=True)
            codes = {p.account_code for entry in parsed.entries for p in entry.postings}
            known = {a.code: a for a in await repo.list_accounts(community_id) if a.code in codes}
            locked = await repo.lock_accounts(community_id, sorted(a.id for a in known.values()))
            units = units_of(await repo.list_commodities(community_id))
            journal, problems = plan(parsed, {a.code: a for a in locked.values()}, units)
            if problems:
                raise JournalRefused(problems)
            written = [build_entry(community_id, *item[1:], now) for item in journal.entries]
            await self._write(uow, community_id, sorted(locked), written, progress)
            await repo.write_counters(community_id, journal.counters)
            summary = JournalSummary(sha256, len(written), sum(len(e.postings) for e in written))
            await repo.store_idempotency_result(
                community_id, key, msgspec.json.encode(_Stored(summary))
            )
            record = audit.event(OPERATION, sha256, None, now)
            ids = (f"entries={summary.entries}", f"postings={summary.postings}")
            await repo.append_audit(community_id, replace(record, result_ids=ids))
            await uow.commit()
        return summary

    async def _write(
        self,
        uow: UnitOfWork,
        community_id: uuid.UUID,
        locked: Sequence[uuid.UUID],
        written: list[Entry],
        progress: Callable[[int], object],
    ) -> None:
        writer = self._writer(uow)
        await writer.start(community_id, locked)
        chunk = 10_000
        for start in range(0, len(written), chunk):
            part = written[start : start + chunk]
            await writer.insert(part)
            progress(len(part))
        await writer.finish()


class _Stored(msgspec.Struct, frozen=True):
    result: JournalSummary


def replace_summary(summary: JournalSummary, *, already_imported: bool) -> JournalSummary:
    return msgspec.structs.replace(summary, already_imported=already_imported)
