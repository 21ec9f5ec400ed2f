"""The ledger's use cases. Each runs in one unit of work, committed once, here.

Writes follow one shape: claim the idempotency key (if any), lock what the write touches in a
fixed order, run the pure checks of ``ledger.books.rules`` on the locked state, and only then write.
Because every check runs before the first write, a rejected request leaves the ledger exactly as
it was — only its outcome is recorded under its idempotency key, so a retry meets the same error.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Final, TypeVar

from ledger.audit import chain as audit
from ledger.books import rules
from ledger.books.envelope import WriteEnvelope
from ledger.books.ports import Repository, UnitOfWork, UnitOfWorkFactory
from ledger.books.writes import complete_pending, locked_entry, write_checked_entry
from ledger.kernel import errors
from ledger.kernel.clock import Clock, utc_now
from ledger.kernel.inputs import NAME_MAX_CHARS, check_page_size, require_text
from ledger.kernel.model import (
    COMMODITY_CODE_PATTERN,
    HOURS,
    SLUG_PATTERN,
    Account,
    AccountType,
    Balance,
    Commodity,
    CommodityTrialBalance,
    Community,
    Counters,
    Entry,
    EntryStatus,
    IdempotencyKey,
    Member,
    NewEntry,
    StatementCursor,
    StatementPage,
    TrialBalance,
    TrialBalanceLine,
    new_id,
)
from ledger.kernel.observer import LedgerEvents

T = TypeVar("T")


class _Keep:
    """Marks a field of ``AccountChange`` left as it is (None means "no limit")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()

_SLUG = re.compile(SLUG_PATTERN)
_COMMODITY_CODE = re.compile(COMMODITY_CODE_PATTERN)


@dataclass(frozen=True, slots=True)
class NewAccount:
    code: str
    name: str
    type: AccountType
    commodity: str
    member_id: uuid.UUID | None = None
    balance_min: int | None = None
    balance_max: int | None = None


@dataclass(frozen=True, slots=True)
class AccountChange:
    name: str | _Keep = KEEP
    balance_min: int | _Keep | None = KEEP
    balance_max: int | _Keep | None = KEEP
    closed: bool | _Keep = KEEP


class Ledger:
    """Use cases over one database. ``uow`` opens units of work; ``clock`` tells UTC time;
    ``events`` hears of every write that took effect and every idempotent replay."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock = utc_now, events: LedgerEvents | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._envelope = WriteEnvelope(uow, clock, events)

    @property
    def units(self) -> UnitOfWorkFactory:
        """The unit-of-work factory, for use cases built on the ledger that open their own
        (``ledger.governance``)."""
        return self._uow

    # Communities, commodities, members ------------------------------------------------------

    async def create_community(self, slug: str, name: str) -> Community:
        """A new community, with its built-in ``HOURS`` commodity (minutes)."""
        if not _SLUG.match(slug):
            raise errors.InvalidInput(
                f"slug {slug!r} must be 1–64 lowercase letters, digits or inner hyphens"
            )
        require_text("name", name)
        community = Community(id=new_id(), slug=slug, name=name, created_at=self._clock())
        async with self._uow(write=True) as uow:
            await uow.repo.insert_community(community)
            await uow.repo.insert_commodity(Commodity(community.id, HOURS, "Hours", 0))
            await uow.repo.append_audit(
                community.id, self._audit_event("create_community", None, community)
            )
            await uow.commit()
        return community

    async def get_community(self, community_id: uuid.UUID) -> Community:
        async with self._uow(write=False) as uow:
            return _found(await uow.repo.get_community(community_id), community_id)

    async def get_community_by_slug(self, slug: str) -> Community:
        async with self._uow(write=False, snapshot=False) as uow:
            community = await uow.repo.get_community_by_slug(slug)
        if community is None:
            raise errors.CommunityNotFound(f"community {slug!r} does not exist")
        return community

    async def add_commodity(
        self,
        community_id: uuid.UUID,
        code: str,
        name: str,
        scale: int,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Commodity:
        """A money or goods unit; ``scale`` is the decimal places of its display unit (0–9)."""
        if not _COMMODITY_CODE.match(code):
            raise errors.InvalidInput(
                f"commodity code {code!r} must be 1–24 capital letters, digits or underscores"
            )
        require_text("name", name)
        if type(scale) is not int or not 0 <= scale <= 9:
            raise errors.InvalidInput(f"scale must be an integer from 0 to 9, got {scale!r}")
        commodity = Commodity(community_id, code, name, scale)

        async def work(repo: Repository) -> Commodity:
            _found(await repo.get_community(community_id), community_id)
            await repo.insert_commodity(commodity)
            return commodity

        return await self._idempotent(
            community_id,
            "add_commodity",
            commodity,
            idempotency_key,
            work=work,
            result_type=Commodity,
        )

    async def list_commodities(self, community_id: uuid.UUID) -> list[Commodity]:
        async with self._uow(write=False) as uow:
            return list(await uow.repo.list_commodities(community_id))

    async def create_member(
        self,
        community_id: uuid.UUID,
        name: str,
        *,
        hours_min: int | None = None,
        hours_max: int | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Member:
        """A member and, in the same transaction, their credit-normal ``HOURS`` account
        (limits in minutes)."""
        member, account = new_member(community_id, name, hours_min, hours_max, self._clock())

        async def work(repo: Repository) -> Member:
            _found(await repo.get_community(community_id), community_id)
            await repo.insert_member(member)
            await repo.insert_account(account)
            return member

        request = [name, hours_min, hours_max]
        return await self._idempotent(
            community_id, "create_member", request, idempotency_key, work=work, result_type=Member
        )

    async def get_member(self, community_id: uuid.UUID, member_id: uuid.UUID) -> Member:
        async with self._uow(write=False) as uow:
            member = await uow.repo.get_member(community_id, member_id)
        if member is None:
            raise errors.MemberNotFound(f"member {member_id} does not exist")
        return member

    async def list_members(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 50
    ) -> list[Member]:
        """Members in the order they joined."""
        check_page_size(limit)
        async with self._uow(write=False) as uow:
            return list(await uow.repo.list_members(community_id, after=after, limit=limit))

    # Accounts ---------------------------------------------------------------------------------

    async def open_account(
        self,
        community_id: uuid.UUID,
        spec: NewAccount,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Account:
        account = _new_account(community_id, spec, self._clock())

        async def work(repo: Repository) -> Account:
            if await repo.get_commodity(community_id, spec.commodity) is None:
                raise errors.CommodityNotFound(f"commodity {spec.commodity!r} does not exist")
            if spec.member_id is not None and (
                await repo.get_member(community_id, spec.member_id) is None
            ):
                raise errors.MemberNotFound(f"member {spec.member_id} does not exist")
            await repo.insert_account(account)
            return account

        return await self._idempotent(
            community_id, "open_account", spec, idempotency_key, work=work, result_type=Account
        )

    async def get_account(self, community_id: uuid.UUID, account_id: uuid.UUID) -> Account:
        async with self._uow(write=False, snapshot=False) as uow:
            return _account_found(await uow.repo.get_account(community_id, account_id), account_id)

    async def list_accounts(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None = None,
        after_code: str | None = None,
        limit: int | None = None,
    ) -> list[Account]:
        """Accounts in code order (all of them when ``limit`` is None)."""
        if limit is not None:
            check_page_size(limit)
        async with self._uow(write=False) as uow:
            return list(
                await uow.repo.list_accounts(
                    community_id, member_id=member_id, after_code=after_code, limit=limit
                )
            )

    async def update_account(
        self,
        community_id: uuid.UUID,
        account_id: uuid.UUID,
        change: AccountChange,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Account:
        """Renames, changes limits, closes or reopens an account. New limits must hold for the
        current balance; an account with pending entries cannot be closed."""

        async def work(repo: Repository) -> Account:
            account = _account_found(
                await repo.get_account(community_id, account_id, lock=True), account_id
            )
            updated = _apply_change(account, change)
            if (updated.balance_min, updated.balance_max) != (
                account.balance_min,
                account.balance_max,
            ):
                rules.check_new_limits(account, updated.balance_min, updated.balance_max)
            counters = account.counters
            if (
                updated.closed
                and not account.closed
                and (counters.debits_pending or counters.credits_pending)
            ):
                raise errors.AccountHasPending(
                    f"account {account_id} has pending entries; post or void them first"
                )
            await repo.update_account_details(updated)
            return updated

        changed = {
            name: value
            for name in ("name", "balance_min", "balance_max", "closed")
            if not isinstance(value := getattr(change, name), _Keep)
        }
        return await self._idempotent(
            community_id,
            "update_account",
            [account_id, changed],
            idempotency_key,
            work=work,
            result_type=Account,
        )

    # Entries ----------------------------------------------------------------------------------

    async def post_entry(
        self,
        community_id: uuid.UUID,
        entry: NewEntry,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Entry:
        """Writes ``entry`` whole — posted, or pending when ``entry.pending`` — or not at all."""
        rules.check_entry(entry)

        async def work(repo: Repository) -> Entry:
            return await self._write_entry(repo, community_id, entry, reverses=None)

        return await self._idempotent(community_id, "post_entry", entry, idempotency_key, work=work)

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
    ) -> list[Entry]:
        """Entries in the order they were recorded, ``limit`` after the entry ``after``; only
        those touching ``account_ids``, of ``kind`` and in ``status``, for each filter given."""
        check_page_size(limit)
        async with self._uow(write=False) as uow:
            found = await uow.repo.list_entries(
                community_id,
                after=after,
                limit=limit,
                account_ids=account_ids,
                kind=kind,
                status=status,
            )
        return list(found)

    # Balances and reports ---------------------------------------------------------------------

    async def balance(
        self, community_id: uuid.UUID, account_id: uuid.UUID, as_of: date | None = None
    ) -> Balance:
        """Now: read from the account's maintained counters, O(1). As of a date: summed from the
        postings of entries effective on or before it, counted by their status now."""
        _, balance = await self.account_balance(community_id, account_id, as_of)
        return balance

    async def account_balance(
        self, community_id: uuid.UUID, account_id: uuid.UUID, as_of: date | None = None
    ) -> tuple[Account, Balance]:
        """The account with :meth:`balance`, read together (the caller checks who may see the
        account): now, one statement, as the account row carries its counters; as of a date,
        the account and its postings in one snapshot."""
        async with self._uow(write=False, snapshot=as_of is not None) as uow:
            account = _account_found(
                await uow.repo.get_account(community_id, account_id), account_id
            )
            if as_of is None:
                return account, account.balance
            counters = await uow.repo.counters_as_of(community_id, account_id, as_of)
        balance = Balance.from_counters(
            account.id, account.commodity, account.type, counters, as_of
        )
        return account, balance

    async def statement(
        self,
        community_id: uuid.UUID,
        account_id: uuid.UUID,
        *,
        after: StatementCursor | None = None,
        limit: int = 50,
    ) -> StatementPage:
        """The account's posted lines in effective-date order with the running posted balance."""
        check_page_size(limit)
        async with self._uow(write=False) as uow:
            account = _account_found(
                await uow.repo.get_account(community_id, account_id), account_id
            )
            rows = await uow.repo.statement(community_id, account, after=after, limit=limit + 1)
        lines = tuple(line for line, _ in rows[:limit])
        next_cursor = rows[limit - 1][1] if len(rows) > limit else None
        return StatementPage(lines, next_cursor)

    async def trial_balance(
        self, community_id: uuid.UUID, as_of: date | None = None
    ) -> TrialBalance:
        """Per commodity, every account's posted balance on its debit or credit side."""
        async with self._uow(write=False) as uow:
            accounts = await uow.repo.list_accounts(community_id)
            if as_of is not None:
                by_account = await uow.repo.counters_by_account_as_of(community_id, as_of)
                accounts = [replace(a, counters=by_account.get(a.id, Counters())) for a in accounts]
        return _trial_balance(accounts, as_of)

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
            _found(await repo.get_community(community_id), community_id)
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

    # Internals --------------------------------------------------------------------------------

    async def _idempotent(
        self,
        community_id: uuid.UUID,
        operation: str,
        request: object,
        key: IdempotencyKey | None,
        *,
        work: Callable[[Repository], Awaitable[T]],
        result_type: type[T] = Entry,  # type: ignore[assignment]
    ) -> T:
        """Runs ``work`` on the repository in the one write envelope (``envelope.py``)."""

        async def in_unit(uow: UnitOfWork) -> T:
            return await work(uow.repo)

        return await self._envelope.write(
            community_id, operation, request, key, work=in_unit, result_type=result_type
        )

    def _audit_event(
        self, operation: str, key: IdempotencyKey | None, result: object
    ) -> audit.AuditEvent:
        return audit.event(operation, None if key is None else key.key, result, self._clock())

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


def new_member(
    community_id: uuid.UUID,
    name: str,
    hours_min: int | None,
    hours_max: int | None,
    now: datetime,
) -> tuple[Member, Account]:
    """A member and their credit-normal ``HOURS`` account (limits in minutes), not yet stored."""
    require_text("name", name)
    member_id = new_id()
    spec = NewAccount(
        code=f"member:{member_id}",
        name=f"Hours of {name}"[:NAME_MAX_CHARS],
        type=AccountType.LIABILITY,
        commodity=HOURS,
        member_id=member_id,
        balance_min=hours_min,
        balance_max=hours_max,
    )
    account = _new_account(community_id, spec, now)
    return Member(community_id, member_id, name, account.id, now), account


def _found(community: Community | None, community_id: uuid.UUID) -> Community:
    if community is None:
        raise errors.CommunityNotFound(f"community {community_id} does not exist")
    return community


def _account_found(account: Account | None, account_id: uuid.UUID) -> Account:
    if account is None:
        raise errors.AccountNotFound(f"account {account_id} does not exist")
    return account


def _new_account(community_id: uuid.UUID, spec: NewAccount, now: datetime) -> Account:
    require_text("code", spec.code, 120)
    require_text("name", spec.name)
    account = Account(
        community_id=community_id,
        id=new_id(),
        code=spec.code,
        name=spec.name,
        type=AccountType(spec.type),
        commodity=spec.commodity,
        member_id=spec.member_id,
        balance_min=None,
        balance_max=None,
        closed=False,
        created_at=now,
    )
    rules.check_new_limits(account, spec.balance_min, spec.balance_max)
    return replace(account, balance_min=spec.balance_min, balance_max=spec.balance_max)


def _apply_change(account: Account, change: AccountChange) -> Account:
    updated = account
    if not isinstance(change.name, _Keep):
        require_text("name", change.name)
        updated = replace(updated, name=change.name)
    if not isinstance(change.balance_min, _Keep):
        updated = replace(updated, balance_min=change.balance_min)
    if not isinstance(change.balance_max, _Keep):
        updated = replace(updated, balance_max=change.balance_max)
    if not isinstance(change.closed, _Keep):
        updated = replace(updated, closed=change.closed)
    return updated


def _trial_balance(accounts: Sequence[Account], as_of: date | None) -> TrialBalance:
    by_commodity: dict[str, list[TrialBalanceLine]] = {}
    for account in sorted(accounts, key=lambda a: (a.commodity, a.code)):
        raw = account.counters.debits_posted - account.counters.credits_posted
        line = TrialBalanceLine(account.id, account.code, account.type, max(raw, 0), max(-raw, 0))
        by_commodity.setdefault(account.commodity, []).append(line)
    return TrialBalance(
        as_of=as_of,
        commodities=tuple(
            CommodityTrialBalance(
                commodity=commodity,
                lines=tuple(lines),
                total_debit=sum(line.debit for line in lines),
                total_credit=sum(line.credit for line in lines),
            )
            for commodity, lines in by_commodity.items()
        ),
    )
