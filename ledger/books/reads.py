"""Balances and reports: the reads of ``Ledger`` over accounts' counters and postings."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from ledger.books.cases import UseCases, account_found
from ledger.books.ports import LedgerRepository, UnitOfWork
from ledger.kernel.inputs import check_page_size
from ledger.kernel.model import (
    Account,
    Balance,
    CommodityTrialBalance,
    Counters,
    StatementCursor,
    StatementPage,
    TrialBalance,
    TrialBalanceLine,
)
from ledger.kernel.uow import run_read


class BalanceReads(UseCases):
    """Balances, statements and the trial balance."""

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

        async def read(uow: UnitOfWork) -> tuple[Account, Counters | None]:
            account = account_found(
                await uow.repo.get_account(community_id, account_id), account_id
            )
            if as_of is None:
                return account, None
            return account, await uow.repo.counters_as_of(community_id, account_id, as_of)

        account, counters = await run_read(self._uow, read, snapshot=as_of is not None)
        if counters is None:
            return account, account.balance
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
        # Need not be fresher than the request: may run on the replica (``replica_reads``).
        async with self._replica_reads(write=False) as uow:
            account = account_found(
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
            members = await _member_names(uow.repo, community_id)
        return _trial_balance(accounts, members, as_of)


async def _member_names(repo: LedgerRepository, community_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Every member's name by id, read a page at a time."""
    names: dict[uuid.UUID, str] = {}
    after: uuid.UUID | None = None
    while page := await repo.list_members(community_id, after=after, limit=_MEMBER_PAGE):
        names |= {member.id: member.name for member in page}
        if len(page) < _MEMBER_PAGE:
            break
        after = page[-1].id
    return names


_MEMBER_PAGE = 1000


def _trial_balance(
    accounts: Sequence[Account], members: Mapping[uuid.UUID, str], as_of: date | None
) -> TrialBalance:
    by_commodity: dict[str, list[TrialBalanceLine]] = {}
    for account in sorted(accounts, key=lambda a: (a.commodity, a.code)):
        raw = account.counters.debits_posted - account.counters.credits_posted
        member = None if account.member_id is None else members.get(account.member_id)
        line = TrialBalanceLine(
            account.id, account.code, account.name, member, account.type, max(raw, 0), max(-raw, 0)
        )
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
