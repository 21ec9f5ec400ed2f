"""Restricted funds: money given for one purpose (a grant for the greenhouse).

A fund *is* an asset account with ``balance_min = 0``, opened under the account the money sits
in (``Assets:Bank`` → ``Assets:Bank:Greenhouse``), so the bank's group still adds up to what the
bank holds. Income tagged to the fund is an entry debiting the fund's account; spending tagged
to it credits that account. Because the floor is the core's account limit, spending that would
take the fund below zero — counting pending entries — is rejected whole (``limit_exceeded``),
whatever the path (``…/funds/{id}/spend``, a transfer, a general entry) and under any
concurrency: the core locks the fund's account row for every write that touches it.

The fund's balance is its account's balance (posted, pending, available).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Final

from ledger.books import rules
from ledger.books.cases import open_account_found
from ledger.books.ports import Repository
from ledger.economy.errors import FundNotFound
from ledger.economy.ports import Books, EconomyStore, Fund, write_entry
from ledger.kernel import errors
from ledger.kernel.inputs import check_page_size, require_text
from ledger.kernel.model import (
    Account,
    AccountType,
    Balance,
    Entry,
    IdempotencyKey,
    NewEntry,
    PostingSpec,
    new_id,
)
from ledger.kernel.quantity import Units, show, unit_for

FUND_INCOME_KIND: Final = "fund_income"
FUND_SPEND_KIND: Final = "fund_spend"
FUND_CODE_PATTERN: Final = r"^[A-Z][A-Za-z0-9]{0,39}$"
_FUND_CODE = re.compile(FUND_CODE_PATTERN)


@dataclass(frozen=True, slots=True)
class FundView:
    """A fund with its account's code and balance (smallest unit of ``commodity``)."""

    fund: Fund
    account_code: str
    commodity: str
    balance: Balance


@dataclass(frozen=True, slots=True)
class FundMovement:
    """Money into or out of a fund: ``amount`` (> 0, smallest unit) between the fund's account
    and ``other_account_id`` (the income it came from, or the expense it paid)."""

    other_account_id: uuid.UUID
    amount: int
    description: str
    effective_date: date | None = None


class Funds:
    def __init__(self, books: Books) -> None:
        self._books = books

    async def create(
        self,
        community_id: uuid.UUID,
        *,
        name: str,
        code: str,
        held_in_account_id: uuid.UUID,
        purpose: str = "",
        idempotency_key: IdempotencyKey | None = None,
    ) -> FundView:
        """Opens the fund's account ``<held in>:<code>`` (asset, same commodity, floor 0).
        ``account_not_found``, ``account_code_exists``, ``invalid_input`` (bad code, or a
        holding account that is no community asset)."""
        require_text("name", name)
        if not isinstance(purpose, str) or len(purpose) > rules.DESCRIPTION_MAX_CHARS:
            raise errors.InvalidInput("purpose must be at most 1000 characters")
        if not isinstance(code, str) or not _FUND_CODE.match(code):
            raise errors.InvalidInput(
                f"code {code!r} must be a capital letter then up to 39 letters or digits"
            )
        now = self._books.clock()

        async def work(repo: Repository, store: EconomyStore) -> FundView:
            holder = open_account_found(
                await repo.get_account(community_id, held_in_account_id), held_in_account_id
            )
            if holder.type is not AccountType.ASSET or holder.member_id is not None:
                raise errors.InvalidInput("a fund is held in an asset account of the community")
            account = Account(
                community_id=community_id,
                id=new_id(),
                code=f"{holder.code}:{code}"[:120],
                name=name,
                type=AccountType.ASSET,
                commodity=holder.commodity,
                member_id=None,
                balance_min=0,
                balance_max=None,
                closed=False,
                created_at=now,
            )
            await repo.insert_account(account)
            fund = Fund(community_id, new_id(), name, purpose, account.id, now)
            await store.insert_fund(fund)
            return FundView(fund, account.code, account.commodity, account.balance)

        request = [name, code, held_in_account_id, purpose]
        return await self._books.write(
            community_id, "create_fund", request, idempotency_key, work=work, result_type=FundView
        )

    async def get(self, community_id: uuid.UUID, fund_id: uuid.UUID) -> FundView:
        async def work(repo: Repository, store: EconomyStore) -> FundView:
            return await _view(repo, await _fund(store, community_id, fund_id))

        return await self._books.read(work)

    async def list_funds(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 50
    ) -> list[FundView]:
        """Funds in the order they were created, with their balances."""
        check_page_size(limit)

        async def work(repo: Repository, store: EconomyStore) -> list[FundView]:
            found = await store.list_funds(community_id, after=after, limit=limit)
            return [await _view(repo, fund) for fund in found]

        return await self._books.read(work)

    async def receive(
        self,
        community_id: uuid.UUID,
        fund_id: uuid.UUID,
        movement: FundMovement,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Entry:
        """Income tagged to the fund: debits the fund's account, credits ``other_account_id``
        (an income account such as ``Income:Grants``)."""
        return await self._move(community_id, fund_id, movement, idempotency_key, spend=False)

    async def spend(
        self,
        community_id: uuid.UUID,
        fund_id: uuid.UUID,
        movement: FundMovement,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Entry:
        """Spending tagged to the fund: debits ``other_account_id`` (an expense), credits the
        fund's account. ``limit_exceeded`` when the fund, counting pending entries, holds less."""
        return await self._move(community_id, fund_id, movement, idempotency_key, spend=True)

    async def _move(
        self,
        community_id: uuid.UUID,
        fund_id: uuid.UUID,
        movement: FundMovement,
        key: IdempotencyKey | None,
        *,
        spend: bool,
    ) -> Entry:
        _check_movement(movement)

        async def work(repo: Repository, store: EconomyStore) -> Entry:
            fund = await _fund(store, community_id, fund_id)
            into_fund = -movement.amount if spend else movement.amount
            spec = NewEntry(
                postings=(
                    PostingSpec(fund.account_id, into_fund),
                    PostingSpec(movement.other_account_id, -into_fund),
                ),
                description=movement.description,
                effective_date=movement.effective_date,
                kind=FUND_SPEND_KIND if spend else FUND_INCOME_KIND,
                metadata={"fund_id": str(fund.id)},
            )
            try:
                return await write_entry(repo, community_id, spec, self._books.clock())
            except errors.LimitExceeded as exc:
                if not spend:
                    raise
                beyond, commodity = exc, str(exc.members.get("commodity", ""))

                def words(units: Units | None) -> str:
                    wanted = show(movement.amount, unit_for(commodity, units))
                    return (
                        f"the fund {fund.name!r} holds less than {wanted} (counting pending "
                        f"entries): {beyond.in_units(units).detail}"
                    )

                raise errors.LimitExceeded(words, members=beyond.members) from None

        operation = "spend_from_fund" if spend else "receive_into_fund"
        request = [fund_id, movement]
        return await self._books.write(
            community_id, operation, request, key, work=work, result_type=Entry
        )


def _check_movement(movement: FundMovement) -> None:
    if type(movement.amount) is not int or not 0 < movement.amount <= 2**53 - 1:
        raise errors.InvalidAmount(f"amount must be a positive integer, got {movement.amount!r}")
    rules.check_description(movement.description)
    rules.check_effective_date(movement.effective_date)


async def _fund(store: EconomyStore, community_id: uuid.UUID, fund_id: uuid.UUID) -> Fund:
    fund = await store.get_fund(community_id, fund_id)
    if fund is None:
        raise FundNotFound(f"fund {fund_id} does not exist")
    return fund


async def _view(repo: Repository, fund: Fund) -> FundView:
    account = await repo.get_account(fund.community_id, fund.account_id)
    assert account is not None, "a fund's account exists (foreign key)"
    return FundView(fund, account.code, account.commodity, account.balance)
