"""A stateful property test of the ledger's use cases against a reference model, on both engines.

Hypothesis drives random sequences of use cases: opening accounts (some with tight limits) and
members, direct and pending entries (mostly balanced, sometimes deliberately broken), posting,
voiding and reversing entries (also ones that cannot be), closing and reopening accounts, changing
their limits, and idempotent writes with their replays. A plain in-memory model decides on its
own whether each call must succeed and, if not, with which error code; the real ledger must agree.
After every step the database must match the model and keep the ledger's invariants: every
commodity sums to zero (posted and pending), maintained counters equal the sums of the postings,
balances lie within their limits, trial balances balance, and a rejected write changed nothing.

The machine has one rule, ``step``, whose argument is the use case to run: with a rule per use
case Hypothesis's swarm testing switches about half of them off in each example, and with the few
examples a database test can afford, most examples then never got as far as completing an entry.

Each example works in a community of its own. ``LEDGER_PROPERTY_EXAMPLES`` and
``LEDGER_PROPERTY_STEPS`` raise the (modest) defaults for deeper local runs.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import defaultdict
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Literal, TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from ledger.books.service import KEEP, AccountChange, Ledger, NewAccount
from ledger.kernel import errors
from ledger.kernel.model import (
    HOURS,
    AccountType,
    Counters,
    Entry,
    EntryStatus,
    IdempotencyKey,
    NewEntry,
    Posting,
    PostingSpec,
)
from ledger.store import SqlUnitOfWorkFactory, create_engine
from tests.conftest import unique_slug

T = TypeVar("T")

EXAMPLES = int(os.environ.get("LEDGER_PROPERTY_EXAMPLES", "50"))
STEPS = int(os.environ.get("LEDGER_PROPERTY_STEPS", "30"))

EUR = "EUR"
COMMODITIES = (HOURS, EUR)
AMOUNT_LIMIT = 2**53 - 1
"""The largest amount the contract allows: the largest integer a JSON number carries exactly."""
COUNTER_LIMIT = 2**63 - 1
"""The largest counter a BIGINT holds."""
FAR_FUTURE = date(9999, 12, 31)
CUTOFF = date(2025, 1, 1)
"""A past day the trial balance is also checked as of."""
MAX_ACCOUNTS = 12
MAX_MEMBERS = 4
DEBIT_NORMAL = frozenset({AccountType.ASSET, AccountType.EXPENSE})

Transition = Literal["post", "reserve", "commit", "release"]
Operation = Literal["post_entry", "post_pending", "void_pending", "reverse"]


# The reference model ------------------------------------------------------------------------------


@dataclass
class ModelAccount:
    id: uuid.UUID
    code: str
    type: AccountType
    commodity: str
    member_id: uuid.UUID | None
    balance_min: int | None
    balance_max: int | None
    closed: bool = False
    counters: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    """Debits posted, credits posted, debits pending, credits pending."""


@dataclass
class ModelEntry:
    status: EntryStatus
    postings: tuple[tuple[uuid.UUID, int], ...]
    entry: Entry
    """The entry as the ledger last returned it (the database must hold exactly this)."""
    reversed: bool = False


@dataclass(frozen=True)
class Write:
    """One idempotent write: what it does and its request, whose equality is the fingerprint's."""

    op: Operation
    new_entry: NewEntry | None = None
    target: uuid.UUID | None = None
    effective_date: date | None = None
    description: str | None = None


def figures(type_: AccountType, counters: Sequence[int]) -> tuple[int, int, int, int]:
    """Posted, pending, available and ceiling in the account's normal direction."""
    debits_posted, credits_posted, debits_pending, credits_pending = counters
    if type_ in DEBIT_NORMAL:
        posted, raising, lowering = debits_posted - credits_posted, debits_pending, credits_pending
    else:
        posted, raising, lowering = credits_posted - debits_posted, credits_pending, debits_pending
    return posted, raising - lowering, posted - lowering, posted + raising


def within(balance_min: int | None, balance_max: int | None, available: int, ceiling: int) -> bool:
    return (balance_min is None or available >= balance_min) and (
        balance_max is None or ceiling <= balance_max
    )


# What Hypothesis draws ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryPlan:
    """An entry in terms of picks among the model's accounts, resolved when the step runs.

    Each transfer is (commodity pick, debit account pick, credit account pick, amount); ``split``
    splits the last credit over a second account; ``flaw`` breaks the entry on purpose."""

    transfers: tuple[tuple[int, int, int, int], ...]
    split: int | None
    flaw: str
    at: int
    by: int
    pending: bool
    effective_date: date | None
    description: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ChangePlan:
    keep_min: bool
    balance_min: int | None
    keep_max: bool
    balance_max: int | None
    closed: bool | None

    def change(self) -> AccountChange:
        return AccountChange(
            balance_min=KEEP if self.keep_min else self.balance_min,
            balance_max=KEEP if self.keep_max else self.balance_max,
            closed=KEEP if self.closed is None else self.closed,
        )


@dataclass(frozen=True)
class OpenAccount:
    type: AccountType
    commodity: str
    balance_min: int | None
    balance_max: int | None
    for_member: int | None
    flaw: str
    by: int


@dataclass(frozen=True)
class CreateMember:
    hours_min: int | None
    hours_max: int | None


@dataclass(frozen=True)
class UpdateAccount:
    pick: tuple[str, int]
    """(``any``, ``with_pending`` or ``closed``: the accounts to pick among, a pick)"""
    plan: ChangePlan


@dataclass(frozen=True)
class PostEntry:
    plan: EntryPlan
    key: IdempotencyKey | None


@dataclass(frozen=True)
class Complete:
    """Post, void or reverse an entry: usually one that can be, sometimes not."""

    op: Operation
    pick: tuple[str, int]
    """(one of ``ENTRY_POOLS``: the entries to pick among, a pick)"""
    effective_date: date | None
    description: str | None
    key: IdempotencyKey | None


@dataclass(frozen=True)
class Replay:
    """Send an earlier keyed request again, as it was or changed."""

    pick: int
    same: bool


Action = OpenAccount | CreateMember | UpdateAccount | PostEntry | Complete | Replay

OPENING_FLAWS = (
    *["none"] * 8,
    "duplicate_code",
    "unknown_commodity",
    "min_above_max",
    "min_above_zero",
    "max_below_zero",
    "unknown_member",
    "foreign_member",
)
ENTRY_FLAWS = (
    *["none"] * 12,
    "unbalanced",
    "zero",
    "huge",
    "too_few",
    "unknown_account",
    "foreign_account",
    "any_account",
    "overflow",
)
ENTRY_POOLS = (
    *["fitting"] * 5,
    "pending",
    "posted",
    "voided",
    "any",
    "missing",
    "foreign",
)
"""Entries to pick among (``fitting``: pending ones to complete, posted ones to reverse); an
empty pool falls back to all the entries."""

amounts = st.integers(1, 420).map(lambda n: AMOUNT_LIMIT if n > 414 else n)
effective_dates = st.sampled_from(
    (None, None, date(2024, 1, 15), date(2025, 6, 1), date(2099, 1, 1))
)
lower_limits = st.sampled_from((None, None, None)) | st.integers(-500, 0)
upper_limits = st.sampled_from((None, None, None)) | st.integers(0, 500)
key_pool = [
    IdempotencyKey(scope, key) for scope in ("api-key:1", "api-key:2", "member:x") for key in "abcd"
]
optional_keys = st.sampled_from((*[None] * 10, *key_pool))
entry_plans = st.builds(
    EntryPlan,
    transfers=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 99), st.integers(0, 99), amounts),
        min_size=1,
        max_size=2,
    ).map(tuple),
    split=st.none() | st.integers(0, 999),
    flaw=st.sampled_from(ENTRY_FLAWS),
    at=st.integers(0, 7),
    by=st.integers(1, 60),
    pending=st.sampled_from((True, False, True)),
    effective_date=effective_dates,
    description=st.sampled_from(("", "Garden work", "Bread")),
    metadata=st.sampled_from(({}, {"category": "garden", "n": 2})),
)
account_changes = st.one_of(
    # Close or reopen.
    st.builds(ChangePlan, st.just(True), st.none(), st.just(True), st.none(), st.booleans()),
    # New limits, sometimes closing too.
    st.builds(
        ChangePlan,
        keep_min=st.booleans(),
        balance_min=st.none() | st.integers(-600, 100),
        keep_max=st.booleans(),
        balance_max=st.none() | st.integers(-100, 600),
        closed=st.sampled_from((None, None, None, True)),
    ),
)
open_accounts = st.builds(
    OpenAccount,
    type=st.sampled_from(AccountType),
    commodity=st.sampled_from(COMMODITIES),
    balance_min=lower_limits,
    balance_max=upper_limits,
    for_member=st.none() | st.integers(0, 9),
    flaw=st.sampled_from(OPENING_FLAWS),
    by=st.integers(1, 99),
)
create_members = st.builds(CreateMember, lower_limits, upper_limits)
update_accounts = st.builds(
    UpdateAccount,
    st.tuples(
        st.sampled_from(("any", "with_pending", "with_pending", "closed")), st.integers(0, 99)
    ),
    account_changes,
)
post_entries = st.builds(PostEntry, entry_plans, optional_keys)
completions = st.builds(
    Complete,
    st.sampled_from(("post_pending", "void_pending", "reverse")),
    st.tuples(st.sampled_from(ENTRY_POOLS), st.integers(0, 99)),
    effective_dates,
    st.sampled_from((None, "Undo")),
    optional_keys,
)
replays = st.builds(Replay, st.integers(0, 99), st.booleans())
ACTIONS: dict[str, st.SearchStrategy[Action]] = {
    "open_account": open_accounts,
    "create_member": create_members,
    "update_account": update_accounts,
    "post_entry": post_entries,
    "complete": completions,
    "replay": replays,
}
WEIGHTS = {
    "open_account": 1,
    "create_member": 1,
    "update_account": 2,
    "post_entry": 4,
    "complete": 3,
    "replay": 1,
}
actions = st.sampled_from(
    [name for name, weight in WEIGHTS.items() for _ in range(weight)]
).flatmap(ACTIONS.__getitem__)


# The ledger under test ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Foreign:
    """Another community's rows: the machine's community must never reach them."""

    community_id: uuid.UUID
    member_id: uuid.UUID
    account_ids: tuple[uuid.UUID, ...]
    entry_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class Context:
    runner: asyncio.Runner
    ledger: Ledger
    foreign: Foreign
    units: SqlUnitOfWorkFactory
    """The ledger's units of work: the repository beneath it, for the postings' own sums."""


async def foreign_community(ledger: Ledger) -> Foreign:
    community = await ledger.create_community(unique_slug("foreign"), "Another time-bank")
    ann = await ledger.create_member(community.id, "Ann")
    pot = await ledger.open_account(
        community.id, NewAccount("pot", "Pot", AccountType.EQUITY, HOURS)
    )
    posted = await ledger.post_entry(
        community.id,
        NewEntry((PostingSpec(ann.hours_account_id, 60), PostingSpec(pot.id, -60))),
    )
    pending = await ledger.post_entry(
        community.id,
        NewEntry((PostingSpec(pot.id, 30), PostingSpec(ann.hours_account_id, -30)), pending=True),
    )
    return Foreign(community.id, ann.id, (ann.hours_account_id, pot.id), (posted.id, pending.id))


async def foreign_snapshot(ledger: Ledger, foreign: Foreign) -> object:
    return (
        await ledger.list_accounts(foreign.community_id),
        await ledger.list_entries(foreign.community_id, limit=500),
    )


class LedgerMachine(RuleBasedStateMachine):
    context: ClassVar[Context]

    def __init__(self) -> None:
        super().__init__()
        self.ledger = self.context.ledger
        community = self.run(self.ledger.create_community(unique_slug("prop"), "Property"))
        self.community_id = community.id
        self.run(self.ledger.add_commodity(self.community_id, EUR, "Euro", 2))
        self.accounts: dict[uuid.UUID, ModelAccount] = {}
        self.members: dict[uuid.UUID, uuid.UUID] = {}
        self.entries: dict[uuid.UUID, ModelEntry] = {}
        self.keys: dict[IdempotencyKey, tuple[Write, Entry | str]] = {}
        """Per claimed key: its first request and what it produced (an entry or an error code)."""
        self.keyed: list[tuple[IdempotencyKey, Write]] = []
        """Every keyed request sent, for replays."""
        self.touched: set[uuid.UUID] = set()
        """Accounts a step changed, whose balances the next check reads one by one."""
        self.opened = 0
        self.settled = True
        """False while a step or check runs: after a failure, teardown checks nothing more."""

    # Plumbing ---------------------------------------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.context.runner.run(coroutine)

    def attempt(
        self, expected: str | None, coroutine: Coroutine[Any, Any, T], what: str, label: str
    ) -> T | None:
        """Runs a call that must succeed (``expected`` None) or fail with the ``expected`` code."""
        failure: errors.LedgerError | None = None
        try:
            result = self.run(coroutine)
        except errors.LedgerError as exc:
            failure = exc
        event(f"{label}: {expected or 'success'}")
        if failure is not None:
            assert failure.code == expected, (
                f"{what}: expected {expected or 'success'}, got {failure!r}"
            )
            return None
        assert expected is None, f"{what}: expected {expected}, but it succeeded: {result!r}"
        return result

    def commodity_of(self, account_id: uuid.UUID) -> str:
        return self.accounts[account_id].commodity

    def has_pending(self, account_id: uuid.UUID) -> bool:
        return any(
            entry.status is EntryStatus.PENDING and account_id in {a for a, _ in entry.postings}
            for entry in self.entries.values()
        )

    # The model's verdicts ---------------------------------------------------------------------

    def counters_after(
        self, postings: Sequence[tuple[uuid.UUID, int]], transition: Transition
    ) -> dict[uuid.UUID, list[int]]:
        after = {account_id: list(self.accounts[account_id].counters) for account_id, _ in postings}
        for account_id, amount in postings:
            side, size, counters = (0 if amount > 0 else 1), abs(amount), after[account_id]
            if transition == "post":
                counters[side] += size
            elif transition == "reserve":
                counters[2 + side] += size
            elif transition == "commit":
                counters[2 + side] -= size
                counters[side] += size
            else:
                counters[2 + side] -= size
        return after

    def effect_error(
        self, postings: Sequence[tuple[uuid.UUID, int]], transition: Transition
    ) -> str | None:
        after = self.counters_after(postings, transition)
        if any(value > COUNTER_LIMIT for counters in after.values() for value in counters):
            return "counter_overflow"
        for account_id, counters in after.items():
            account = self.accounts[account_id]
            _, _, available, ceiling = figures(account.type, counters)
            if not within(account.balance_min, account.balance_max, available, ceiling):
                return "limit_exceeded"
        return None

    def new_entry_error(
        self, postings: Sequence[tuple[uuid.UUID, int]], transition: Transition
    ) -> str | None:
        if any(account_id not in self.accounts for account_id, _ in postings):
            return "account_not_found"
        if any(self.accounts[account_id].closed for account_id, _ in postings):
            return "account_closed"
        sums: dict[str, int] = defaultdict(int)
        for account_id, amount in postings:
            sums[self.commodity_of(account_id)] += amount
        if any(sums.values()):
            return "unbalanced"
        return self.effect_error(postings, transition)

    @staticmethod
    def shape_error(write: Write) -> str | None:
        """Checks 1–3, which ``Ledger.post_entry`` runs before it even looks at the idempotency
        key: a request they reject does not claim its key, so a later request may still use it.
        (The contract's "same key, different body is 409" read literally would claim it.)"""
        if write.new_entry is None:
            return None
        postings = write.new_entry.postings
        if len(postings) < 2:
            return "too_few_postings"
        if any(p.amount == 0 or abs(p.amount) > AMOUNT_LIMIT for p in postings):
            return "invalid_amount"
        net: dict[uuid.UUID, int] = defaultdict(int)
        for p in postings:
            net[p.account_id] += p.amount
        if not any(net.values()):
            return "same_account"  # every account's postings cancel out: it moves nothing
        return None

    def verdict(self, write: Write) -> str | None:
        if write.new_entry is not None:
            postings = tuple((p.account_id, p.amount) for p in write.new_entry.postings)
            return self.new_entry_error(postings, "reserve" if write.new_entry.pending else "post")
        assert write.target is not None
        entry = self.entries.get(write.target)
        if entry is None:
            return "entry_not_found"
        if write.op == "reverse":
            if entry.status is not EntryStatus.POSTED:
                return "entry_not_posted"
            if entry.reversed:
                return "entry_already_reversed"
            return self.new_entry_error([(a, -amount) for a, amount in entry.postings], "post")
        if entry.status is not EntryStatus.PENDING:
            return "entry_not_pending"
        return self.effect_error(
            entry.postings, "commit" if write.op == "post_pending" else "release"
        )

    # Writing entries --------------------------------------------------------------------------

    def call(self, write: Write, key: IdempotencyKey | None) -> Coroutine[Any, Any, Entry]:
        if write.new_entry is not None:
            return self.ledger.post_entry(self.community_id, write.new_entry, key)
        assert write.target is not None
        if write.op == "post_pending":
            return self.ledger.post_pending(self.community_id, write.target, key)
        if write.op == "void_pending":
            return self.ledger.void_pending(self.community_id, write.target, key)
        return self.ledger.reverse(
            self.community_id,
            write.target,
            effective_date=write.effective_date,
            description=write.description,
            idempotency_key=key,
        )

    def perform(self, write: Write, key: IdempotencyKey | None, *, record: bool = True) -> None:
        """Runs a write and checks it against the model's verdict, or its replay's."""
        if key is not None and record:
            self.keyed.append((key, write))
        what = f"{write} under {key}"
        label = write.op if key is None else f"{write.op} with a key"
        shape = self.shape_error(write)
        stored = self.keys.get(key) if key is not None and shape is None else None
        if stored is not None:
            first, outcome = stored
            if first != write:
                self.attempt("idempotency_conflict", self.call(write, key), what, label)
            elif isinstance(outcome, str):
                self.attempt(outcome, self.call(write, key), what, label)
            else:
                replayed = self.attempt(None, self.call(write, key), what, label)
                assert replayed == outcome, f"{what}: the replay differs from the first result"
            return
        expected = shape or self.verdict(write)
        result = self.attempt(expected, self.call(write, key), what, label)
        if key is not None and shape is None:
            if result is None:
                assert expected is not None
                self.keys[key] = (write, expected)
            else:
                self.keys[key] = (write, result)
        if result is not None:
            self.check_written(write, result)
            self.apply(write, result)

    def check_written(self, write: Write, entry: Entry) -> None:
        assert entry.community_id == self.community_id
        if write.new_entry is not None:
            spec = write.new_entry
            assert entry.id not in self.entries
            assert entry.status is (EntryStatus.PENDING if spec.pending else EntryStatus.POSTED)
            assert entry.postings == tuple(
                Posting(p.account_id, p.amount, self.commodity_of(p.account_id))
                for p in spec.postings
            )
            assert (entry.description, entry.kind, entry.metadata, entry.reverses) == (
                spec.description,
                spec.kind,
                spec.metadata,
                None,
            )
            assert entry.effective_date == (spec.effective_date or entry.created_at.date())
            assert entry.completed_at == (None if spec.pending else entry.created_at)
            return
        assert write.target is not None
        before = self.entries[write.target].entry
        if write.op == "reverse":
            assert entry.id not in self.entries
            assert (entry.status, entry.kind, entry.reverses) == (
                EntryStatus.POSTED,
                "reversal",
                write.target,
            )
            assert entry.postings == tuple(
                Posting(p.account_id, -p.amount, p.commodity) for p in before.postings
            )
            assert entry.description == (
                write.description or f"Reversal of {before.description or write.target}"
            )
            assert entry.effective_date == (write.effective_date or entry.created_at.date())
            return
        status = EntryStatus.POSTED if write.op == "post_pending" else EntryStatus.VOIDED
        assert entry.completed_at is not None and entry.completed_at >= before.created_at
        assert (entry.id, entry.status, entry.postings, entry.created_at) == (
            before.id,
            status,
            before.postings,
            before.created_at,
        )

    def move(self, postings: Sequence[tuple[uuid.UUID, int]], transition: Transition) -> None:
        for account_id, counters in self.counters_after(postings, transition).items():
            self.accounts[account_id].counters = counters
            self.touched.add(account_id)

    def apply(self, write: Write, entry: Entry) -> None:
        if write.new_entry is not None:
            postings = tuple((p.account_id, p.amount) for p in write.new_entry.postings)
            pending = write.new_entry.pending
            self.move(postings, "reserve" if pending else "post")
            status = EntryStatus.PENDING if pending else EntryStatus.POSTED
            self.entries[entry.id] = ModelEntry(status, postings, entry)
            return
        assert write.target is not None
        target = self.entries[write.target]
        if write.op == "reverse":
            target.reversed = True
            postings = tuple((a, -amount) for a, amount in target.postings)
            self.move(postings, "post")
            self.entries[entry.id] = ModelEntry(EntryStatus.POSTED, postings, entry)
        elif write.op == "post_pending":
            self.move(target.postings, "commit")
            target.status, target.entry = EntryStatus.POSTED, entry
        else:
            self.move(target.postings, "release")
            target.status, target.entry = EntryStatus.VOIDED, entry

    def build(self, plan: EntryPlan) -> NewEntry:
        """Resolves an entry plan against the accounts the model has now."""
        pools = {c: [a.id for a in self.accounts.values() if a.commodity == c] for c in COMMODITIES}
        fallback = next(pool for pool in pools.values() if pool)
        postings: list[tuple[uuid.UUID, int]] = []
        for commodity, debit, credit, amount in plan.transfers:
            pool = pools[COMMODITIES[commodity]] or fallback
            postings += [(pool[debit % len(pool)], amount), (pool[credit % len(pool)], -amount)]
        if plan.split is not None and len(postings) == 2 and postings[1][1] <= -2:
            account_id, amount = postings[1]
            pool = pools[self.commodity_of(account_id)]
            part = 1 + plan.split % (-amount - 1)
            postings[1:] = [(account_id, amount + part), (pool[plan.split % len(pool)], -part)]
        index = plan.at % len(postings)
        account_id, amount = postings[index]
        if plan.flaw == "unbalanced":
            postings[index] = (account_id, amount + (plan.by if plan.at % 2 else -plan.by))
        elif plan.flaw == "zero":
            postings[index] = (account_id, 0)
        elif plan.flaw == "huge":
            postings[index] = (account_id, (AMOUNT_LIMIT + 1) * (1 if amount > 0 else -1))
        elif plan.flaw == "overflow":
            # 1025 × (2**53 − 1) > 2**63 − 1: each of the two counters would overflow.
            first, second = postings[0][0], postings[1][0]
            postings = [(first, AMOUNT_LIMIT), (second, -AMOUNT_LIMIT)] * 1025
        elif plan.flaw == "too_few":
            postings = postings[: plan.at % 2]
        elif plan.flaw == "unknown_account":
            postings[index] = (uuid.UUID(int=plan.by), amount)
        elif plan.flaw == "foreign_account":
            foreign = self.context.foreign.account_ids
            postings[index] = (foreign[plan.at % len(foreign)], amount)
        elif plan.flaw == "any_account":
            everything = list(self.accounts)
            postings[index] = (everything[plan.by % len(everything)], amount)
        return NewEntry(
            tuple(PostingSpec(a, amount) for a, amount in postings),
            description=plan.description,
            pending=plan.pending,
            effective_date=plan.effective_date,
            metadata=plan.metadata,
        )

    def pick_entry(self, pick: tuple[str, int], fitting: EntryStatus) -> uuid.UUID:
        pool_name, index = pick
        if pool_name == "foreign":
            foreign = self.context.foreign.entry_ids
            return foreign[index % len(foreign)]
        if pool_name == "missing" or not self.entries:
            return uuid.UUID(int=index + 1)
        wanted = fitting if pool_name == "fitting" else pool_name
        pool = [i for i, e in self.entries.items() if wanted in ("any", e.status)]
        pool = pool or list(self.entries)
        return pool[index % len(pool)]

    def pick_account(self, pick: tuple[str, int]) -> ModelAccount:
        pool_name, index = pick
        pool = [
            account
            for account in self.accounts.values()
            if pool_name == "any"
            or (pool_name == "closed" and account.closed)
            or (pool_name == "with_pending" and self.has_pending(account.id))
        ]
        pool = pool or list(self.accounts.values())
        return pool[index % len(pool)]

    # Accounts and members ---------------------------------------------------------------------

    def open(self, spec: NewAccount) -> None:
        if (
            spec.balance_min is not None
            and spec.balance_max is not None
            and spec.balance_min > spec.balance_max
        ):
            expected: str | None = "invalid_input"
        elif not within(spec.balance_min, spec.balance_max, 0, 0):
            expected = "limits_violated_by_balance"
        elif spec.commodity not in COMMODITIES:
            expected = "commodity_not_found"
        elif spec.member_id is not None and spec.member_id not in self.members:
            expected = "member_not_found"
        elif spec.code in {a.code for a in self.accounts.values()}:
            expected = "account_code_exists"
        else:
            expected = None
        account = self.attempt(
            expected,
            self.ledger.open_account(self.community_id, spec),
            f"open {spec}",
            "open_account",
        )
        if account is None:
            return
        assert account.counters == Counters()
        assert (account.code, account.type, account.commodity, account.member_id) == (
            spec.code,
            spec.type,
            spec.commodity,
            spec.member_id,
        )
        assert (account.balance_min, account.balance_max, account.closed) == (
            spec.balance_min,
            spec.balance_max,
            False,
        )
        self.accounts[account.id] = ModelAccount(
            account.id,
            spec.code,
            spec.type,
            spec.commodity,
            spec.member_id,
            spec.balance_min,
            spec.balance_max,
        )
        self.touched.add(account.id)

    def next_code(self) -> str:
        self.opened += 1
        return f"acct-{self.opened}"

    def open_account(self, action: OpenAccount) -> None:
        members, codes = list(self.members), [a.code for a in self.accounts.values()]
        member_id = (
            None
            if action.for_member is None or not members
            else members[action.for_member % len(members)]
        )
        flaw, by = action.flaw, action.by
        duplicate = flaw == "duplicate_code" and codes
        code = codes[by % len(codes)] if duplicate else self.next_code()
        commodity, balance_min, balance_max = (
            action.commodity,
            action.balance_min,
            action.balance_max,
        )
        if flaw == "unknown_commodity":
            commodity = "EGGS"
        elif flaw == "min_above_max":
            balance_min, balance_max = by, by - 1
        elif flaw == "min_above_zero":
            balance_min = by
        elif flaw == "max_below_zero":
            balance_max = -by
        elif flaw == "unknown_member":
            member_id = uuid.UUID(int=by)
        elif flaw == "foreign_member":
            member_id = self.context.foreign.member_id
        spec = NewAccount(
            code, code.title(), action.type, commodity, member_id, balance_min, balance_max
        )
        self.open(spec)

    def create_member(self, hours_min: int | None, hours_max: int | None) -> None:
        ledger, community_id = self.ledger, self.community_id
        member = self.run(
            ledger.create_member(community_id, "Member", hours_min=hours_min, hours_max=hours_max)
        )
        assert self.run(ledger.get_member(community_id, member.id)) == member
        account = self.run(ledger.get_account(community_id, member.hours_account_id))
        assert (account.type, account.commodity, account.member_id, account.closed) == (
            AccountType.LIABILITY,
            HOURS,
            member.id,
            False,
        )
        assert (account.balance_min, account.balance_max) == (hours_min, hours_max)
        assert account.counters == Counters()
        self.members[member.id] = account.id
        self.accounts[account.id] = ModelAccount(
            account.id,
            account.code,
            AccountType.LIABILITY,
            HOURS,
            member.id,
            hours_min,
            hours_max,
        )
        self.touched.add(account.id)

    def change(self, account: ModelAccount, plan: ChangePlan) -> None:
        balance_min = account.balance_min if plan.keep_min else plan.balance_min
        balance_max = account.balance_max if plan.keep_max else plan.balance_max
        closed = account.closed if plan.closed is None else plan.closed
        posted, _, available, ceiling = figures(account.type, account.counters)
        expected: str | None = None
        if (balance_min, balance_max) != (account.balance_min, account.balance_max):
            if balance_min is not None and balance_max is not None and balance_min > balance_max:
                expected = "invalid_input"
            elif not within(balance_min, balance_max, available, ceiling):
                expected = "limits_violated_by_balance"
        if expected is None and closed and not account.closed and self.has_pending(account.id):
            expected = "account_has_pending"
        if expected is None and closed and not account.closed and posted != 0:
            expected = "account_has_balance"
        updated = self.attempt(
            expected,
            self.ledger.update_account(self.community_id, account.id, plan.change()),
            f"change {account} by {plan}",
            "update_account",
        )
        if updated is None:
            return
        assert (updated.balance_min, updated.balance_max, updated.closed) == (
            balance_min,
            balance_max,
            closed,
        )
        account.balance_min, account.balance_max, account.closed = balance_min, balance_max, closed

    # Entries ----------------------------------------------------------------------------------

    def complete(self, action: Complete) -> None:
        fitting = EntryStatus.POSTED if action.op == "reverse" else EntryStatus.PENDING
        target = self.pick_entry(action.pick, fitting)
        if action.op == "reverse":
            write = Write(
                action.op,
                target=target,
                effective_date=action.effective_date,
                description=action.description,
            )
        else:
            write = Write(action.op, target=target)
        self.perform(write, action.key)

    def replay(self, action: Replay) -> None:
        if not self.keyed:
            return
        key, write = self.keyed[action.pick % len(self.keyed)]
        if not action.same:
            if write.new_entry is not None:
                spec = write.new_entry
                changed = NewEntry(
                    spec.postings,
                    f"{spec.description} (changed)",
                    spec.pending,
                    spec.effective_date,
                    spec.kind,
                    spec.metadata,
                )
                write = Write("post_entry", new_entry=changed)
            elif write.op == "reverse":
                write = Write(
                    "reverse",
                    target=write.target,
                    effective_date=write.effective_date,
                    description="Changed",
                )
            else:
                other: Operation = "void_pending" if write.op == "post_pending" else "post_pending"
                write = Write(other, target=write.target)
        self.perform(write, key, record=False)

    # The rules --------------------------------------------------------------------------------

    @initialize(limits=st.lists(st.tuples(lower_limits, upper_limits), min_size=4, max_size=4))
    def chart_of_accounts(self, limits: list[tuple[int | None, int | None]]) -> None:
        """Two members, an unlimited HOURS pot and two EUR accounts, so that entries can be
        written from the first step on."""
        self.settled = False
        (ann_min, ann_max), (bob_min, bob_max), (bank_min, bank_max), (dues_min, dues_max) = limits
        self.create_member(ann_min, ann_max)
        self.create_member(bob_min, bob_max)
        self.open(NewAccount("commons", "Commons", AccountType.EQUITY, HOURS))
        self.open(NewAccount("bank", "Bank", AccountType.ASSET, EUR, None, bank_min, bank_max))
        self.open(NewAccount("dues", "Dues", AccountType.INCOME, EUR, None, dues_min, dues_max))
        self.settled = True

    @rule(action=actions)
    def step(self, action: Action) -> None:
        self.settled = False
        if isinstance(action, OpenAccount):
            if len(self.accounts) < MAX_ACCOUNTS:
                self.open_account(action)
        elif isinstance(action, CreateMember):
            if len(self.members) < MAX_MEMBERS and len(self.accounts) < MAX_ACCOUNTS:
                self.create_member(action.hours_min, action.hours_max)
        elif isinstance(action, UpdateAccount):
            self.change(self.pick_account(action.pick), action.plan)
        elif isinstance(action, PostEntry):
            self.perform(Write("post_entry", new_entry=self.build(action.plan)), action.key)
        elif isinstance(action, Complete):
            self.complete(action)
        else:
            self.replay(action)
        self.settled = True

    # Invariants -------------------------------------------------------------------------------

    def check_balances(self, account_ids: Sequence[uuid.UUID]) -> None:
        """``balance()`` (from the maintained counters), ``balance(as_of=…)`` (a date after every
        posting: the counters less nothing) and the postings summed by the repository all equal
        the model's figures."""
        from_postings = self.run(self.postings_summed())
        for account_id in account_ids:
            model = self.accounts[account_id]
            found = from_postings.get(account_id, Counters())
            assert [
                found.debits_posted,
                found.credits_posted,
                found.debits_pending,
                found.credits_pending,
            ] == model.counters, model
        for account_id in account_ids:
            model = self.accounts[account_id]
            expected = figures(model.type, model.counters)
            now = self.run(self.ledger.balance(self.community_id, account_id))
            summed = self.run(self.ledger.balance(self.community_id, account_id, FAR_FUTURE))
            for balance in (now, summed):
                assert (balance.account_id, balance.commodity) == (account_id, model.commodity)
                assert (
                    balance.posted,
                    balance.pending,
                    balance.available,
                    balance.ceiling,
                ) == expected, (model, balance)
            assert (now.as_of, summed.as_of) == (None, FAR_FUTURE)

    async def postings_summed(self) -> dict[uuid.UUID, Counters]:
        async with self.context.units(write=False) as uow:
            return await uow.repo.summed_from_postings(self.community_id, FAR_FUTURE)

    @invariant()
    def accounts_agree(self) -> None:
        """Every account's details and counters equal the model's, each commodity sums to zero
        (posted and pending), and every balance lies within its limits."""
        self.settled = False
        stored = {a.id: a for a in self.run(self.ledger.list_accounts(self.community_id))}
        assert stored.keys() == self.accounts.keys()
        posted: dict[str, int] = defaultdict(int)
        pending: dict[str, int] = defaultdict(int)
        for account_id, model in self.accounts.items():
            account = stored[account_id]
            details = (
                account.code,
                account.type,
                account.commodity,
                account.member_id,
                account.balance_min,
                account.balance_max,
                account.closed,
            )
            assert details == (
                model.code,
                model.type,
                model.commodity,
                model.member_id,
                model.balance_min,
                model.balance_max,
                model.closed,
            ), account_id
            counters = account.counters
            assert [
                counters.debits_posted,
                counters.credits_posted,
                counters.debits_pending,
                counters.credits_pending,
            ] == model.counters, account_id
            posted[model.commodity] += counters.debits_posted - counters.credits_posted
            pending[model.commodity] += counters.debits_pending - counters.credits_pending
            balance = account.balance
            assert within(model.balance_min, model.balance_max, balance.available, balance.ceiling)
        assert not any(posted.values()), posted
        assert not any(pending.values()), pending
        # Reading every balance one by one costs two queries per account: after each step only
        # those of the accounts it changed, all of them at the end of each example (teardown).
        self.check_balances(sorted(self.touched & self.accounts.keys()))
        self.touched.clear()
        self.settled = True

    @invariant()
    def trial_balances_balance(self) -> None:
        """Now (counters), as of a past day and as of the far future (both summed from the
        postings): debits equal credits per commodity, and every line is the model's."""
        self.settled = False
        for as_of in (None, CUTOFF, FAR_FUTURE):
            expected = dict.fromkeys(self.accounts, 0)
            for entry in self.entries.values():
                if entry.status is EntryStatus.POSTED and (
                    as_of is None or entry.entry.effective_date <= as_of
                ):
                    for account_id, amount in entry.postings:
                        expected[account_id] += amount
            trial = self.run(self.ledger.trial_balance(self.community_id, as_of))
            assert trial.as_of == as_of
            seen: dict[uuid.UUID, int] = {}
            for group in trial.commodities:
                assert group.total_debit == group.total_credit, group
                assert group.total_debit == sum(line.debit for line in group.lines)
                assert group.total_credit == sum(line.credit for line in group.lines)
                for line in group.lines:
                    assert self.commodity_of(line.account_id) == group.commodity
                    assert min(line.debit, line.credit) == 0, line
                    seen[line.account_id] = line.debit - line.credit
            assert seen == expected, as_of
        self.settled = True

    @invariant()
    def entries_agree(self) -> None:
        """The journal holds exactly the model's entries, each as the ledger last returned it."""
        self.settled = False
        stored = {e.id: e for e in self.run(self.ledger.list_entries(self.community_id, limit=500))}
        assert stored.keys() == self.entries.keys()
        for entry_id, model in self.entries.items():
            assert stored[entry_id] == model.entry, entry_id
            assert stored[entry_id].status is model.status
        reversed_ids = {e.reverses for e in stored.values() if e.reverses is not None}
        assert reversed_ids == {i for i, e in self.entries.items() if e.reversed}
        self.settled = True

    def teardown(self) -> None:
        """Every balance, read one by one, at the end of an example that did not fail."""
        if self.settled:
            self.check_balances(list(self.accounts))


SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# Shrinking a failure replays many examples against the database: give it time to finish.
@pytest.mark.timeout(900)
def test_the_ledger_agrees_with_its_model(database_url: str) -> None:
    with asyncio.Runner() as runner:
        engine = create_engine(database_url)
        try:
            units = SqlUnitOfWorkFactory(engine)
            ledger = Ledger(units)
            foreign = runner.run(foreign_community(ledger))
            before = runner.run(foreign_snapshot(ledger, foreign))

            class Machine(LedgerMachine):
                context = Context(runner, ledger, foreign, units)

            run_state_machine_as_test(Machine, settings=SETTINGS)
            assert runner.run(foreign_snapshot(ledger, foreign)) == before
        finally:
            runner.run(engine.dispose())
