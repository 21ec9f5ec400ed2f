"""The emergency fund's lookups and checks that need nothing but the transaction: which account
is the fund, whether a payee and an amount may be requested, the request row locked."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

from ledger.books import rules
from ledger.governance.budgets import COMMENT_MAX_CHARS
from ledger.governance.model import (
    Disbursement,
    DisbursementNotFound,
    FundNotConfigured,
    GovernanceSettings,
)
from ledger.governance.transactions import Tx
from ledger.kernel import errors
from ledger.kernel.inputs import require_text
from ledger.kernel.model import Account
from ledger.kernel.quantity import Units, show, unit_for


def fund_of(settings: GovernanceSettings) -> uuid.UUID:
    if settings.fund_account_id is None:
        raise FundNotConfigured("the community has designated no emergency-fund account")
    return settings.fund_account_id


async def fund_and_payee(
    tx: Tx,
    community_id: uuid.UUID,
    settings: GovernanceSettings,
    payee_account_id: uuid.UUID,
    amount: int,
) -> tuple[Account, Account]:
    """The fund's account, locked, and the payee's: another account in the fund's commodity,
    with ``amount`` available in the fund, pending requests counted."""
    fund_id = fund_of(settings)
    payee = await tx.repo.get_account(community_id, payee_account_id)
    if payee is None:
        raise errors.AccountNotFound(f"account {payee_account_id} does not exist")
    fund = (await tx.repo.lock_accounts(community_id, [fund_id]))[fund_id]
    if payee.id == fund.id or payee.commodity != fund.commodity:
        raise errors.InvalidInput(
            f"the payee must be another account in the fund's commodity {fund.commodity}"
        )
    if amount > fund.balance.available:
        available = fund.balance.available

        def words(units: Units | None) -> str:
            unit = unit_for(fund.commodity, units)
            return (
                f"the emergency fund has {show(available, unit)} available, pending requests "
                f"counted; {show(amount, unit)} was requested"
            )

        members = {"account_id": str(fund.id), "commodity": fund.commodity,
                   "available": available, "requested": amount}  # fmt: skip
        raise errors.LimitExceeded(words, members=members)
    return fund, payee


async def guard_fund(
    tx: Tx, community_id: uuid.UUID, before: uuid.UUID | None, after: uuid.UUID | None
) -> None:
    """Moves the guard from the fund's former account to its new one, which gets a floor of at
    least 0 (``limits_violated_by_balance`` if it holds less, reservations counted)."""
    if before == after:
        if after is not None and await tx.repo.get_account(community_id, after) is None:
            raise errors.AccountNotFound(f"account {after} does not exist")
        return
    if before is not None:
        former = await tx.repo.get_account(community_id, before, lock=True)
        if former is not None:
            await tx.repo.update_account_details(replace(former, guarded=False))
    if after is None:
        return
    account = await tx.repo.get_account(community_id, after, lock=True)
    if account is None:
        raise errors.AccountNotFound(f"account {after} does not exist")
    floor = max(account.balance_min or 0, 0)
    if floor != account.balance_min:
        rules.check_new_limits(account, floor, account.balance_max)
    await tx.repo.update_account_details(replace(account, guarded=True, balance_min=floor))


def check_comment(comment: str | None) -> None:
    if comment is not None:
        require_text("comment", comment, COMMENT_MAX_CHARS)


async def locked_disbursement(
    tx: Tx, community_id: uuid.UUID, disbursement_id: uuid.UUID
) -> Disbursement:
    found = await tx.store.get_disbursement(community_id, disbursement_id, lock=True)
    if found is None:
        raise DisbursementNotFound(f"disbursement {disbursement_id} does not exist")
    return found


def full_months_before(today: date, months: int) -> tuple[date, date]:
    """The ``months`` full calendar months before ``today``'s month."""
    end = today.replace(day=1) - timedelta(days=1)
    index = end.year * 12 + end.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1), end
