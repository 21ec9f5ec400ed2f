"""A concurrent workload against the ledger, and the invariants it must keep.

``run_workload`` opens a fresh community with a handful of tightly limited accounts in two
commodities, then lets many writers hammer them at once — each writer an asyncio task with
connections of its own — while a reader keeps taking consistent snapshots. Writers mix direct
posts, splits, two-commodity entries, pending entries that are later posted or voided, reversals,
races (post and void of one pending entry at the same moment, two reversals of one entry) and
idempotent requests sent twice at once and then retried. Every acknowledged entry and its
expected final status is recorded, every rejection counted, every unexpected exception kept.

Afterwards the ledger is checked against the record: each acknowledged entry exists exactly
once, with its postings and status; no other entry exists; every account's maintained counters
equal the sum of its postings (``balance`` now vs ``balance`` as of a far-future date) and the
sum of the acknowledged effects; no snapshot ever showed a balance outside its limits or a
commodity whose postings did not sum to zero. ``check`` turns the report into an
``AssertionError`` listing what went wrong.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger, NewAccount
from ledger.kernel import errors
from ledger.kernel.model import (
    Account,
    AccountType,
    Balance,
    Community,
    Counters,
    Entry,
    EntryStatus,
    IdempotencyKey,
    NewEntry,
    PostingSpec,
)
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.engine import WRITE_OPTION
from ledger.store.repository import SqlRepository
from ledger.store.tables import entries as entries_table

EUR = "EUR"
FAR_FUTURE = date(9999, 12, 31)
"""``balance(as_of=FAR_FUTURE)`` sums every posting instead of reading the counters."""

Limits = tuple[int | None, int | None]


@dataclass(frozen=True, slots=True)
class Workload:
    """How hard to push. The defaults are the PostgreSQL run."""

    workers: int = 16
    entries_per_worker: int = 200
    engines: int = 2
    """Writers are spread over this many separate engines (each with its own pool)."""
    hours_accounts: int = 6
    eur_accounts: int = 3
    hours_limits: Limits = (-300, 300)
    eur_limits: Limits = (-5_000, 5_000)
    max_minutes: int = 60
    max_cents: int = 900
    keyed_share: float = 0.12
    """Share of requests sent with an idempotency key (twice at once, then once more)."""
    seed: int = 20261124
    reader_pause: float = 0.005


@dataclass(slots=True)
class Expected:
    """What an acknowledged entry must look like in the ledger at the end."""

    postings: tuple[tuple[uuid.UUID, int], ...]
    status: EntryStatus


@dataclass(frozen=True, slots=True)
class Violation:
    kind: str
    detail: str


# Kinds of violation; the naive repository's lost updates show up as COUNTERS.
LIMIT = "limit_breached"
UNBALANCED = "commodity_not_zero"
COUNTERS = "counters_differ_from_postings"
EFFECTS = "balance_differs_from_acknowledged_effects"
ENTRIES = "entries_differ_from_acknowledged"
IDEMPOTENCY = "idempotency"
COMPLETION = "completion"
REJECTION = "unexpected_rejection"


@dataclass(slots=True)
class Report:
    label: str
    dialect: str
    repository: str
    workload: Workload
    accounts: dict[uuid.UUID, Account] = field(default_factory=dict)
    acknowledged: dict[uuid.UUID, Expected] = field(default_factory=dict)
    requests: int = 0
    rejections: Counter[str] = field(default_factory=Counter)
    completions: Counter[str] = field(default_factory=Counter)
    replays: int = 0
    """Idempotent duplicates and retries answered with the original outcome."""
    races: int = 0
    """Pending entries posted and voided at the same moment (exactly one must win), and
    entries reversed twice at the same moment (at most one may win)."""
    reads: int = 0
    unexpected: list[str] = field(default_factory=list)
    unexpected_types: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)
    elapsed: float = 0.0

    def violate(self, kind: str, detail: str) -> None:
        self.violations.append(Violation(kind, detail))

    def record_unexpected(self, exc: BaseException) -> None:
        self.unexpected_types[error_type(exc)] += 1
        self.unexpected.append(f"{error_type(exc)}: {str(exc).splitlines()[0][:300]}")

    def violation_kinds(self) -> Counter[str]:
        return Counter(v.kind for v in self.violations)

    def summary(self) -> str:
        final = Counter(expected.status.value for expected in self.acknowledged.values())
        rate = self.requests / self.elapsed if self.elapsed else 0.0
        entry_rate = len(self.acknowledged) / self.elapsed if self.elapsed else 0.0
        w = self.workload
        return "\n".join(
            [
                f"[{self.label}] {self.dialect}, {self.repository}, {w.workers} writers × "
                f"{w.entries_per_worker} entries on {w.engines} engine(s), "
                f"{len(self.accounts)} accounts",
                f"  {self.elapsed:.2f} s, {self.requests} requests ({rate:.0f}/s), "
                f"{len(self.acknowledged)} entries acknowledged ({entry_rate:.0f}/s), "
                f"final status {dict(final)}",
                f"  rejections {dict(self.rejections)}, completions {dict(self.completions)}, "
                f"idempotent replays {self.replays}, races {self.races}, "
                f"snapshot reads {self.reads}",
                f"  unexpected errors {dict(self.unexpected_types) or 0}, "
                f"violations {dict(self.violation_kinds()) or 0}",
            ]
        )


def check(report: Report) -> None:
    """Raises ``AssertionError`` listing every violation and unexpected error of the run."""
    if not report.violations and not report.unexpected:
        return
    lines = [report.summary()]
    lines += [f"  {v.kind}: {v.detail}" for v in report.violations[:40]]
    if len(report.violations) > 40:
        lines.append(f"  … and {len(report.violations) - 40} more violations")
    lines += [f"  unexpected {text}" for text in report.unexpected[:20]]
    if len(report.unexpected) > 20:
        lines.append(f"  … and {len(report.unexpected) - 20} more unexpected errors")
    raise AssertionError("\n".join(lines))


def error_type(exc: BaseException) -> str:
    """The exception's type, with the database's own error for a DBAPIError
    (``DBAPIError/DeadlockDetectedError[40P01]``, ``OperationalError/OperationalError``)."""
    name = type(exc).__name__
    if isinstance(exc, DBAPIError):
        cause = exc.orig.__cause__ if exc.orig is not None else None
        name += f"/{type(cause or exc.orig).__name__}"
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate:
            name += f"[{sqlstate}]"
    return name


# The run -------------------------------------------------------------------------------------


async def run_workload(
    engine_url: str,
    repository_class: type[SqlRepository] = SqlRepository,
    workload: Workload | None = None,
    *,
    label: str = "workload",
) -> Report:
    """Runs ``workload`` in a new community of the (migrated) database at ``engine_url``,
    writers using ``repository_class``, and returns what happened and what broke."""
    workload = workload or Workload()
    dialect = make_url(engine_url).get_backend_name()
    report = Report(label, dialect, repository_class.__name__, workload)
    per_engine = math.ceil(workload.workers / workload.engines)
    # Each writer sends at most two requests at once; the pool must never make them queue.
    engine_options: dict[str, Any] = (
        {"pool_size": 2 * per_engine + 1, "max_overflow": 2} if dialect == "postgresql" else {}
    )
    engines = [create_engine(engine_url, **engine_options) for _ in range(workload.engines)]
    reader_engine = create_engine(engine_url)
    try:
        ledger = Ledger(SqlUnitOfWorkFactory(reader_engine))
        community, hours, eur = await _setup(ledger, workload, report)
        writers = [
            _Writer(
                index,
                Ledger(SqlUnitOfWorkFactory(engines[index % len(engines)], repository_class)),
                community,
                hours,
                eur,
                workload,
                report,
            )
            for index in range(workload.workers)
        ]
        stop = asyncio.Event()
        reader = asyncio.create_task(_read_until(stop, ledger, reader_engine, community, report))
        started = time.perf_counter()
        try:
            await asyncio.gather(*(writer.run() for writer in writers))
        finally:
            report.elapsed = time.perf_counter() - started
            stop.set()
            await reader
        await _final_checks(ledger, reader_engine, community, report)
    finally:
        for engine in [*engines, reader_engine]:
            await engine.dispose()
    return report


async def _setup(
    ledger: Ledger, workload: Workload, report: Report
) -> tuple[Community, list[uuid.UUID], list[uuid.UUID]]:
    slug = f"{report.label[:20]}-{uuid.uuid4().hex[:12]}".lower().replace("_", "-")
    community = await ledger.create_community(slug, f"Concurrency: {report.label}")
    await ledger.add_commodity(community.id, EUR, "Euro", 2)
    hours_min, hours_max = workload.hours_limits
    hours = []
    for index in range(workload.hours_accounts):
        member = await ledger.create_member(
            community.id, f"Member {index}", hours_min=hours_min, hours_max=hours_max
        )
        hours.append(member.hours_account_id)
    eur_min, eur_max = workload.eur_limits
    eur = []
    for index in range(workload.eur_accounts):
        account = await ledger.open_account(
            community.id,
            NewAccount(
                code=f"eur:{index}",
                name=f"Euro account {index}",
                type=AccountType.ASSET if index % 2 else AccountType.LIABILITY,
                commodity=EUR,
                balance_min=eur_min,
                balance_max=eur_max,
            ),
        )
        eur.append(account.id)
    report.accounts = {a.id: a for a in await ledger.list_accounts(community.id)}
    return community, hours, eur


_Outcome = Entry | errors.LedgerError | None
"""What one request produced: an entry, a rejection, or None after an unexpected error."""


class _Writer:
    def __init__(
        self,
        index: int,
        ledger: Ledger,
        community: Community,
        hours: Sequence[uuid.UUID],
        eur: Sequence[uuid.UUID],
        workload: Workload,
        report: Report,
    ) -> None:
        self.index = index
        self.ledger = ledger
        self.community_id = community.id
        self.hours = hours
        self.eur = eur
        self.workload = workload
        self.report = report
        self.rng = random.Random(workload.seed * 1_000 + index)
        self.open_pending: list[uuid.UUID] = []
        self.reversible: list[uuid.UUID] = []
        """Posted entries of this writer, not yet reversed (nor reversals themselves)."""

    async def run(self) -> None:
        for _ in range(self.workload.entries_per_worker):
            await self._create(self._new_entry())
            if self.open_pending and self.rng.random() < 0.45:
                await self._complete(_pop_any(self.open_pending, self.rng))
            if self.reversible and self.rng.random() < 0.06:
                await self._reverse(_pop_any(self.reversible, self.rng))
        # Leave at most one entry pending, so the final check sees pending counters too.
        while len(self.open_pending) > 1:
            await self._complete(self.open_pending.pop())

    # Requests ----------------------------------------------------------------------------------

    def _new_entry(self) -> NewEntry:
        rng = self.rng
        draw = rng.random()
        minutes = rng.randint(1, self.workload.max_minutes)
        if draw < 0.45:  # a service between two members, posted at once
            a, b = rng.sample(self.hours, 2)
            postings = [PostingSpec(a, minutes), PostingSpec(b, -minutes)]
            pending = False
        elif draw < 0.58:  # one member receives from two
            a, b, c = rng.sample(self.hours, 3)
            other = rng.randint(1, self.workload.max_minutes)
            postings = [
                PostingSpec(a, minutes + other),
                PostingSpec(b, -minutes),
                PostingSpec(c, -other),
            ]
            pending = False
        elif draw < 0.72:  # hours and euros in one entry: four rows locked at once
            a, b = rng.sample(self.hours, 2)
            x, y = rng.sample(self.eur, 2)
            cents = rng.randint(1, self.workload.max_cents)
            postings = [
                PostingSpec(x, cents),
                PostingSpec(a, minutes),
                PostingSpec(y, -cents),
                PostingSpec(b, -minutes),
            ]
            pending = rng.random() < 0.3
        else:  # a reservation, posted or voided later
            accounts = self.eur if rng.random() < 0.25 else self.hours
            a, b = rng.sample(accounts, 2)
            amount = rng.randint(1, self.workload.max_cents) if accounts is self.eur else minutes
            postings = [PostingSpec(a, amount), PostingSpec(b, -amount)]
            pending = True
        rng.shuffle(postings)
        return NewEntry(
            tuple(postings),
            description=f"writer {self.index}",
            pending=pending,
            metadata={"writer": self.index},
        )

    async def _create(self, spec: NewEntry) -> None:
        def send(key: IdempotencyKey | None) -> Callable[[], Awaitable[Entry]]:
            return lambda: self.ledger.post_entry(self.community_id, spec, key)

        entry = self._settle(await self._send(send), "creating an entry")
        if entry is None:
            return
        status = EntryStatus.PENDING if spec.pending else EntryStatus.POSTED
        self._acknowledge(entry, tuple((p.account_id, p.amount) for p in spec.postings), status)
        (self.open_pending if spec.pending else self.reversible).append(entry.id)

    async def _reverse(self, entry_id: uuid.UUID) -> None:
        """Reverses a posted entry — sometimes twice at the same moment: at most one wins."""
        original = self.report.acknowledged[entry_id]
        reversed_postings = tuple((account, -amount) for account, amount in original.postings)
        if self.rng.random() < 0.3:
            self.report.races += 1
            outcomes = await asyncio.gather(
                *(
                    self._attempt(lambda: self.ledger.reverse(self.community_id, entry_id))
                    for _ in range(2)
                )
            )
            winners = [o for o in outcomes if isinstance(o, Entry)]
            if len(winners) > 1:
                self.report.violate(COMPLETION, f"{entry_id} reversed {len(winners)} times at once")
            for loser in outcomes:
                if isinstance(loser, errors.LedgerError):
                    self.report.rejections[loser.code] += 1
                    if not isinstance(loser, errors.EntryAlreadyReversed | errors.LimitExceeded):
                        self.report.violate(REJECTION, f"reversing {entry_id}: {loser!r}")
            reversal = winners[0] if winners else None
        else:

            def send(key: IdempotencyKey | None) -> Callable[[], Awaitable[Entry]]:
                return lambda: self.ledger.reverse(self.community_id, entry_id, idempotency_key=key)

            reversal = self._settle(await self._send(send), f"reversing {entry_id}")
        if reversal is None:
            return
        self.report.completions["reversed"] += 1
        if reversal.reverses != entry_id:
            self.report.violate(ENTRIES, f"reversal {reversal.id} reverses {reversal.reverses}")
        self._acknowledge(reversal, reversed_postings, EntryStatus.POSTED)

    def _settle(self, outcomes: Sequence[_Outcome], what: str) -> Entry | None:
        """The entry that one request — possibly sent several times under one key — wrote;
        None when it was rejected. Every copy must have had the same outcome, except that a
        copy sent while its twin was still running may be refused as in flight (PostgreSQL);
        the retry sent after both ended never is."""
        if outcomes and isinstance(outcomes[-1], errors.IdempotencyInFlight):
            self.report.violate(IDEMPOTENCY, f"{what}: a retry after the fact was 'in flight'")
        in_flight = [o for o in outcomes if isinstance(o, errors.IdempotencyInFlight)]
        self.report.rejections[errors.IdempotencyInFlight.code] += len(in_flight)
        outcomes = [o for o in outcomes if not isinstance(o, errors.IdempotencyInFlight)]
        entries = [o for o in outcomes if isinstance(o, Entry)]
        rejected = [o for o in outcomes if isinstance(o, errors.LedgerError)]
        if not entries and not rejected:
            return None  # unexpected errors only: recorded already
        self.report.replays += len(entries) + len(rejected) - 1
        if entries and rejected:
            self.report.violate(
                IDEMPOTENCY, f"{what}: one key gave entries and rejections {_codes(rejected)}"
            )
        if rejected:
            codes = {r.code for r in rejected}
            if len(codes) > 1:
                self.report.violate(IDEMPOTENCY, f"{what}: one key gave rejections {codes}")
            if codes != {errors.LimitExceeded.code}:
                self.report.violate(REJECTION, f"{what}: {rejected[0]!r}")
            self.report.rejections[rejected[0].code] += 1
        if not entries:
            return None
        ids = {e.id for e in entries}
        if len(ids) > 1:
            self.report.violate(IDEMPOTENCY, f"{what}: one key wrote {len(ids)} entries {ids}")
        return entries[0]

    def _acknowledge(
        self, entry: Entry, postings: tuple[tuple[uuid.UUID, int], ...], status: EntryStatus
    ) -> None:
        if _postings(entry) != postings or entry.status is not status:
            self.report.violate(
                ENTRIES, f"entry {entry.id} answered {entry.status} {_postings(entry)}"
            )
        self.report.acknowledged[entry.id] = Expected(postings, status)

    async def _complete(self, entry_id: uuid.UUID) -> None:
        draw = self.rng.random()
        if draw < 0.15:
            await self._race(entry_id)
            return
        target = EntryStatus.POSTED if draw < 0.6 else EntryStatus.VOIDED
        complete = (
            self.ledger.post_pending if target is EntryStatus.POSTED else self.ledger.void_pending
        )

        def send(key: IdempotencyKey | None) -> Callable[[], Awaitable[Entry]]:
            return lambda: complete(self.community_id, entry_id, key)

        outcomes = await self._send(send)
        entries = [o for o in outcomes if isinstance(o, Entry)]
        in_flight = [o for o in outcomes[:-1] if isinstance(o, errors.IdempotencyInFlight)]
        self.report.rejections[errors.IdempotencyInFlight.code] += len(in_flight)
        rejected = [
            o
            for o in outcomes
            if isinstance(o, errors.LedgerError) and not any(o is f for f in in_flight)
        ]
        self.report.replays += max(len(entries) - 1, 0)
        for rejection in rejected:
            self.report.violate(COMPLETION, f"{target} of own pending {entry_id}: {rejection!r}")
        for got in entries:
            if got.id != entry_id or got.status is not target:
                self.report.violate(COMPLETION, f"{target} of {entry_id} answered {got.status}")
        if entries:
            self._completed(entry_id, target)

    async def _race(self, entry_id: uuid.UUID) -> None:
        """Posts and voids the same pending entry at once: exactly one wins."""
        self.report.races += 1
        posted, voided = await asyncio.gather(
            self._attempt(lambda: self.ledger.post_pending(self.community_id, entry_id)),
            self._attempt(lambda: self.ledger.void_pending(self.community_id, entry_id)),
        )
        winners = [o for o in (posted, voided) if isinstance(o, Entry)]
        losers = [o for o in (posted, voided) if isinstance(o, errors.LedgerError)]
        if len(winners) != 1:
            self.report.violate(COMPLETION, f"race on {entry_id}: {len(winners)} completions")
        for loser in losers:
            if not isinstance(loser, errors.EntryNotPending):
                self.report.violate(COMPLETION, f"race on {entry_id} lost with {loser!r}")
        if winners:
            self._completed(entry_id, winners[-1].status)

    def _completed(self, entry_id: uuid.UUID, status: EntryStatus) -> None:
        self.report.completions[status.value] += 1
        self.report.acknowledged[entry_id].status = status
        if status is EntryStatus.POSTED:
            self.reversible.append(entry_id)

    async def _send(
        self, request: Callable[[IdempotencyKey | None], Callable[[], Awaitable[Entry]]]
    ) -> list[_Outcome]:
        """The request once, or — keyed — twice at the same moment and then once more."""
        if self.rng.random() >= self.workload.keyed_share:
            return [await self._attempt(request(None))]
        key = IdempotencyKey(f"writer-{self.index}", uuid.uuid4().hex)
        copies = self.rng.choice((1, 2))
        first = await asyncio.gather(*(self._attempt(request(key)) for _ in range(copies)))
        return [*first, await self._attempt(request(key))]

    async def _attempt(self, request: Callable[[], Awaitable[Entry]]) -> _Outcome:
        self.report.requests += 1
        try:
            return await request()
        except errors.LedgerError as exc:
            return exc
        except Exception as exc:  # recorded; any of these fails check()
            self.report.record_unexpected(exc)
            return None


# Reads -----------------------------------------------------------------------------------------


async def _read_until(
    stop: asyncio.Event, ledger: Ledger, engine: AsyncEngine, community: Community, report: Report
) -> None:
    """Until ``stop``: a consistent snapshot, alternately through the repository in one
    transaction and through the service's trial balance and account list."""
    while not stop.is_set():
        try:
            if report.reads % 2 == 0:
                await _check_snapshot(engine, community.id, report, "during the run")
            else:
                await _check_service_reads(ledger, community.id, report)
        except Exception as exc:  # recorded; fails check()
            report.record_unexpected(exc)
        report.reads += 1
        await asyncio.sleep(report.workload.reader_pause)


async def _check_snapshot(
    engine: AsyncEngine, community_id: uuid.UUID, report: Report, when: str
) -> None:
    """In one snapshot: limits, per-commodity zero sums, and counters equal to postings."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="REPEATABLE READ")
        # SQLite: a read transaction in WAL mode sees one snapshot from its first read.
        await connection.execution_options(**{WRITE_OPTION: False})
        async with connection.begin():
            repo = SqlRepository(connection)
            accounts = await repo.list_accounts(community_id)
            # The postings themselves: a balance as of a date may start from the counters.
            summed = await repo.summed_from_postings(community_id, FAR_FUTURE)
    _check_accounts(accounts, report, when)
    for account in accounts:
        from_postings = summed.get(account.id, Counters())
        if account.counters != from_postings:
            report.violate(
                COUNTERS,
                f"{when}: {account.code} counters {account.counters} but its postings sum to "
                f"{from_postings}",
            )


async def _check_service_reads(ledger: Ledger, community_id: uuid.UUID, report: Report) -> None:
    """The service's own reads: trial balances from the counters and from the postings, and the
    account list."""
    for as_of in (None, FAR_FUTURE):
        trial = await ledger.trial_balance(community_id, as_of)
        for commodity in trial.commodities:
            if commodity.total_debit != commodity.total_credit:
                report.violate(
                    UNBALANCED,
                    f"trial balance (as of {as_of}) of {commodity.commodity}: debits "
                    f"{commodity.total_debit} ≠ credits {commodity.total_credit}",
                )
    _check_accounts(await ledger.list_accounts(community_id), report, "list_accounts")


def _check_accounts(accounts: Iterable[Account], report: Report, when: str) -> None:
    posted: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    for account in accounts:
        c = account.counters
        posted[account.commodity] += c.debits_posted - c.credits_posted
        pending[account.commodity] += c.debits_pending - c.credits_pending
        balance = account.balance
        if account.balance_min is not None and balance.available < account.balance_min:
            report.violate(
                LIMIT,
                f"{when}: {account.code} available {balance.available} < min {account.balance_min}",
            )
        if account.balance_max is not None and balance.ceiling > account.balance_max:
            report.violate(
                LIMIT,
                f"{when}: {account.code} ceiling {balance.ceiling} > max {account.balance_max}",
            )
    for commodity, posted_sum in posted.items():
        if posted_sum or pending[commodity]:
            report.violate(
                UNBALANCED,
                f"{when}: {commodity} posted debits − credits = {posted_sum}, "
                f"pending = {pending[commodity]}",
            )


# Final checks ----------------------------------------------------------------------------------


async def _final_checks(
    ledger: Ledger, engine: AsyncEngine, community: Community, report: Report
) -> None:
    await _check_snapshot(engine, community.id, report, "at the end")
    await _check_entries(ledger, engine, community.id, report)
    expected = _expected_counters(report.acknowledged.values())
    for account in report.accounts.values():
        now = await ledger.balance(community.id, account.id)
        summed = await ledger.balance(community.id, account.id, as_of=FAR_FUTURE)
        effects = Balance.from_counters(
            account.id, account.commodity, account.type, expected.get(account.id, Counters())
        )
        if _figures(now) != _figures(summed):
            report.violate(
                COUNTERS,
                f"{account.code}: balance {_figures(now)} but its postings give {_figures(summed)}",
            )
        if _figures(now) != _figures(effects):
            report.violate(
                EFFECTS,
                f"{account.code}: balance {_figures(now)} but the acknowledged entries give "
                f"{_figures(effects)}",
            )


async def _check_entries(
    ledger: Ledger, engine: AsyncEngine, community_id: uuid.UUID, report: Report
) -> None:
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: False})
        counted = (
            await connection.execute(
                sa.select(sa.func.count()).where(entries_table.c.community_id == community_id)
            )
        ).scalar_one()
    if counted != len(report.acknowledged):
        report.violate(
            ENTRIES, f"{counted} entries in the database, {len(report.acknowledged)} acknowledged"
        )
    found: dict[uuid.UUID, Entry] = {}
    listed = 0
    after: uuid.UUID | None = None
    while True:
        page = await ledger.list_entries(community_id, after=after, limit=500)
        listed += len(page)
        found.update((entry.id, entry) for entry in page)
        if len(page) < 500:
            break
        after = page[-1].id
    if listed != len(found) or listed != len(report.acknowledged):
        report.violate(
            ENTRIES,
            f"{listed} entries listed ({len(found)} distinct), "
            f"{len(report.acknowledged)} acknowledged",
        )
    for entry_id, expected in report.acknowledged.items():
        entry = found.get(entry_id)
        if entry is None:
            report.violate(ENTRIES, f"acknowledged entry {entry_id} is missing")
        elif entry.status is not expected.status or _postings(entry) != expected.postings:
            report.violate(
                ENTRIES,
                f"entry {entry_id} is {entry.status} {_postings(entry)}, expected "
                f"{expected.status} {expected.postings}",
            )
    for entry_id in found.keys() - report.acknowledged.keys():
        report.violate(ENTRIES, f"entry {entry_id} was never acknowledged")


def _expected_counters(acknowledged: Iterable[Expected]) -> Mapping[uuid.UUID, Counters]:
    totals: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for expected in acknowledged:
        if expected.status is EntryStatus.VOIDED:
            continue
        offset = 0 if expected.status is EntryStatus.POSTED else 2
        for account_id, amount in expected.postings:
            totals[account_id][offset + (0 if amount > 0 else 1)] += abs(amount)
    return {account_id: Counters(*values) for account_id, values in totals.items()}


def _figures(balance: Balance) -> tuple[int, int, int, int]:
    return balance.posted, balance.pending, balance.available, balance.ceiling


def _postings(entry: Entry) -> tuple[tuple[uuid.UUID, int], ...]:
    return tuple((p.account_id, p.amount) for p in entry.postings)


def _pop_any(items: list[uuid.UUID], rng: random.Random) -> uuid.UUID:
    return items.pop(rng.randrange(len(items)))


def _codes(rejections: Sequence[errors.LedgerError]) -> list[str]:
    return [r.code for r in rejections]
