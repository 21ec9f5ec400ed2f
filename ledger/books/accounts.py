"""Accounts: what opening or changing one asks for, and the use cases of ``Ledger`` that open,
read and change them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from ledger.books import rules
from ledger.books.cases import UseCases, account_found
from ledger.books.ports import Repository
from ledger.kernel import errors
from ledger.kernel.inputs import check_page_size, require_text
from ledger.kernel.model import (
    Account,
    AccountType,
    IdempotencyKey,
    new_id,
)


class _Keep:
    """Marks a field of ``AccountChange`` left as it is (None means "no limit")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


@dataclass(frozen=True, slots=True)
class NewAccount:
    """An account to open; limits in the smallest unit of ``commodity`` (None: no limit)."""

    code: str
    name: str
    type: AccountType
    commodity: str
    member_id: uuid.UUID | None = None
    balance_min: int | None = None
    balance_max: int | None = None


@dataclass(frozen=True, slots=True)
class AccountChange:
    """What to change of an account: each field given, or ``KEEP`` as it is."""

    name: str | _Keep = KEEP
    balance_min: int | _Keep | None = KEEP
    balance_max: int | _Keep | None = KEEP
    closed: bool | _Keep = KEEP


class AccountCases(UseCases):
    """Opens, reads and changes accounts."""

    async def open_account(
        self,
        community_id: uuid.UUID,
        spec: NewAccount,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Account:
        account = new_account(community_id, spec, self._clock())

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
            return account_found(await uow.repo.get_account(community_id, account_id), account_id)

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
        current balance; an account with pending entries or a balance cannot be closed."""

        async def work(repo: Repository) -> Account:
            account = account_found(
                await repo.get_account(community_id, account_id, lock=True), account_id
            )
            updated = _apply_change(account, change)
            if (updated.balance_min, updated.balance_max) != (
                account.balance_min,
                account.balance_max,
            ):
                rules.check_new_limits(account, updated.balance_min, updated.balance_max)
                if account.guarded and (updated.balance_min is None or updated.balance_min < 0):
                    raise errors.InvalidInput(
                        f"account {account_id} is the emergency fund's: its floor "
                        "(balance_min) stays at 0 or above"
                    )
            counters = account.counters
            if (
                updated.closed
                and not account.closed
                and (counters.debits_pending or counters.credits_pending)
            ):
                raise errors.AccountHasPending(
                    f"account {account_id} has pending entries; post or void them first"
                )
            if updated.closed and not account.closed and account.balance.posted != 0:
                raise errors.AccountHasBalance(
                    f"account {account_id} holds {account.balance.posted} "
                    f"{account.commodity}; move it to another account before closing it"
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


def new_account(community_id: uuid.UUID, spec: NewAccount, now: datetime) -> Account:
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
