"""The emergency fund: a designated account that only a group decision may spend.

Guarantees (the emergency-fund tests of tests/ledger/test_governance.py,
tests/ledger/test_governance_properties.py, tests/store/test_governance_postgres.py):

- spending is a *request*: a pending entry of kind ``disbursement`` (debit the payee account,
  credit the fund) that reserves the money at once, so requests together never promise more than
  the fund holds (``limit_exceeded``);
- it posts when ``approvals_required`` distinct current stewards approve (the number in force
  when it was requested). The requester never approves their own (``self_approval``); a second
  approval by the same steward changes nothing; approvals are counted and the entry posted in
  one transaction holding a lock on the request (and a primary key on (request, steward)), so
  concurrent approvals post it exactly once;
- one steward's rejection voids it; so does its deadline passing — by ``expire_overdue`` (the
  periodic job; safe to run concurrently) or when someone tries to approve or reject it late
  (the expiry is recorded, the late approval refused with ``disbursement_not_pending``);
- every step (request, approve, reject, expire, post) is kept with who, when and the comment;
- the fund's money leaves only that way: designating an account as the fund guards it (books'
  ``account_guarded``: no other entry may lower it; a floor of at least 0 that no change of
  limits removes), so a plain transfer, a reversal or a scheduled payment out of it is refused
  and requests together never promise more than it holds (tests/api/test_fund_guard.py).

Audit operations: ``configure_governance``, ``request_disbursement``, ``approve_disbursement``,
``post_disbursement`` (with the approval that posts it), ``reject_disbursement``,
``expire_disbursement``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from ledger.books.envelope import Done
from ledger.books.service import Ledger
from ledger.governance.budgets import COMMENT_MAX_CHARS
from ledger.governance.fund_checks import (
    check_comment,
    full_months_before,
    fund_and_payee,
    fund_of,
    guard_fund,
    locked_disbursement,
)
from ledger.governance.model import (
    Disbursement,
    DisbursementNotFound,
    DisbursementNotPending,
    DisbursementStatus,
    FundStatus,
    GovernanceSettings,
    Role,
    SelfApproval,
    Step,
    StepAction,
    check_settings,
    ratio,
)
from ledger.governance.roles import require_role
from ledger.governance.transactions import GovernanceTransactions, Tx
from ledger.kernel import errors
from ledger.kernel.inputs import require_text
from ledger.kernel.model import (
    GUARDED_SPEND_KIND,
    EntryStatus,
    IdempotencyKey,
    NewEntry,
    PostingSpec,
)

DISBURSEMENT_KIND: Final = GUARDED_SPEND_KIND
TARGET_WINDOW_MONTHS: Final = 3
"""A target in months multiplies the average monthly expenses of this many full months."""
_REASON_MAX_CHARS = 1000


class EmergencyFund:
    def __init__(self, transactions: GovernanceTransactions, ledger: Ledger) -> None:
        self._transactions = transactions
        self._ledger = ledger

    # Settings ---------------------------------------------------------------------------------

    async def settings(self, community_id: uuid.UUID) -> GovernanceSettings:
        async with self._transactions.read() as tx:
            return await tx.store.get_settings(community_id)

    async def configure(
        self,
        community_id: uuid.UUID,
        settings: GovernanceSettings,
        *,
        by_member: uuid.UUID | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> GovernanceSettings:
        """Replaces the community's governance settings (consent rule, approvals, fund)."""
        check_settings(settings)
        now = self._transactions.clock()
        updated = replace(settings, community_id=community_id, updated_at=now)

        async def work(tx: Tx) -> Done[GovernanceSettings]:
            if by_member is not None:
                await require_role(tx, community_id, by_member, Role.TREASURER, now)
            if await tx.repo.get_community(community_id) is None:
                raise errors.CommunityNotFound(f"community {community_id} does not exist")
            before = (await tx.store.get_settings(community_id)).fund_account_id
            await guard_fund(tx, community_id, before, updated.fund_account_id)
            await tx.store.put_settings(updated)
            return Done(updated, "configure_governance")

        request = replace(settings, community_id=community_id, updated_at=None)
        return await self._transactions.write(
            community_id,
            "configure_governance",
            request,
            idempotency_key,
            work=work,
            result_type=GovernanceSettings,
        )

    async def status(self, community_id: uuid.UUID) -> FundStatus:
        """The fund's balance, what pending requests reserve, and its target."""
        today = self._transactions.clock().date()
        async with self._transactions.read() as tx:
            settings = await tx.store.get_settings(community_id)
            fund_id = fund_of(settings)
            account = await tx.repo.get_account(community_id, fund_id)
            assert account is not None, "the settings' foreign key keeps the fund account"
            target, basis = settings.fund_target, "amount"
            if settings.fund_target_months is not None:
                start, end = full_months_before(today, TARGET_WINDOW_MONTHS)
                spent = await tx.store.expenses_between(community_id, account.commodity, start, end)
                target = spent * settings.fund_target_months // TARGET_WINDOW_MONTHS
                basis = f"{settings.fund_target_months} months of expenses"
            elif target is None:
                basis = "no target set"
        balance = account.balance
        return FundStatus(
            account_id=account.id,
            commodity=account.commodity,
            posted=balance.posted,
            pending_out=balance.posted - balance.available,
            available=balance.available,
            target=target,
            target_basis=basis,
            funded=ratio(balance.posted, target),
        )

    # Requests ---------------------------------------------------------------------------------

    async def request(
        self,
        community_id: uuid.UUID,
        *,
        payee_account_id: uuid.UUID,
        amount: int,
        reason: str,
        deadline_at: datetime | None = None,
        requested_by: uuid.UUID | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Disbursement:
        """A pending disbursement of ``amount`` from the fund to ``payee_account_id``.
        ``requested_by`` (when a member asks) must hold a current steward or treasurer term."""
        require_text("reason", reason, _REASON_MAX_CHARS)
        if type(amount) is not int or not 1 <= amount <= 2**53 - 1:
            raise errors.InvalidAmount("amount must be a whole number from 1 to 2**53 - 1")
        now = self._transactions.clock()
        if deadline_at is not None and (deadline_at.tzinfo is None or deadline_at <= now):
            raise errors.InvalidInput("deadline_at must be a time (with zone) in the future")

        async def work(tx: Tx) -> Done[Disbursement]:
            if requested_by is not None:
                roles = await tx.store.current_roles(community_id, requested_by, now)
                if not roles:
                    await require_role(tx, community_id, requested_by, Role.STEWARD, now)
            settings = await tx.store.get_settings(community_id)
            fund, payee = await fund_and_payee(tx, community_id, settings, payee_account_id, amount)
            spec = NewEntry(
                postings=(PostingSpec(payee.id, amount), PostingSpec(fund.id, -amount)),
                description=f"Emergency fund: {reason}"[:1000],
                pending=True,
                kind=DISBURSEMENT_KIND,
                metadata={"requested_by": None if requested_by is None else str(requested_by)},
            )
            entry = await self._ledger.write_entry_within(tx.repo, community_id, spec)
            step = Step(StepAction.REQUEST, requested_by, now, reason[:COMMENT_MAX_CHARS])
            disbursement = Disbursement(
                community_id=community_id,
                id=entry.id,
                fund_account_id=fund.id,
                payee_account_id=payee.id,
                amount=amount,
                commodity=fund.commodity,
                reason=reason,
                requested_by=requested_by,
                approvals_required=settings.approvals_required,
                approvals=(),
                deadline_at=deadline_at or now + timedelta(days=settings.request_days),
                status=DisbursementStatus.PENDING,
                created_at=now,
                completed_at=None,
                steps=(step,),
            )
            await tx.store.insert_disbursement(disbursement)
            await tx.store.add_step(community_id, disbursement.id, step)
            return Done(disbursement, "request_disbursement")

        request = [str(payee_account_id), amount, reason, deadline_at, str(requested_by)]
        return await self._transactions.write(
            community_id,
            "request_disbursement",
            request,
            idempotency_key,
            work=work,
            result_type=Disbursement,
        )

    async def approve(
        self,
        community_id: uuid.UUID,
        disbursement_id: uuid.UUID,
        member_id: uuid.UUID,
        comment: str | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Disbursement:
        """A current steward's approval; the one that reaches the number required posts."""
        check_comment(comment)
        now = self._transactions.clock()

        async def work(tx: Tx) -> Done[Disbursement]:
            found = await locked_disbursement(tx, community_id, disbursement_id)
            if member_id in found.approvals:
                return Done(found, None)
            await require_role(tx, community_id, member_id, Role.STEWARD, now)
            if found.requested_by == member_id:
                raise SelfApproval("the requester of a disbursement can never approve it")
            late = await self._closed_or_late(tx, found, now)
            if late is not None:
                return late
            await tx.store.add_approval(community_id, disbursement_id, member_id, now)
            step = Step(StepAction.APPROVE, member_id, now, comment)
            await tx.store.add_step(community_id, disbursement_id, step)
            approved = replace(
                found, approvals=(*found.approvals, member_id), steps=(*found.steps, step)
            )
            if len(approved.approvals) < approved.approvals_required:
                return Done(approved, "approve_disbursement")
            posted = await self._complete(tx, approved, DisbursementStatus.APPROVED, now, None)
            return Done(posted, "approve_disbursement", also=("post_disbursement",))

        request = [str(disbursement_id), str(member_id), comment]
        return await self._transactions.write(
            community_id,
            "approve_disbursement",
            request,
            idempotency_key,
            work=work,
            result_type=Disbursement,
        )

    async def reject(
        self,
        community_id: uuid.UUID,
        disbursement_id: uuid.UUID,
        member_id: uuid.UUID,
        comment: str | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Disbursement:
        """A current steward's rejection voids the request, releasing the reservation."""
        check_comment(comment)
        now = self._transactions.clock()

        async def work(tx: Tx) -> Done[Disbursement]:
            found = await locked_disbursement(tx, community_id, disbursement_id)
            await require_role(tx, community_id, member_id, Role.STEWARD, now)
            late = await self._closed_or_late(tx, found, now)
            if late is not None:
                return late
            step = Step(StepAction.REJECT, member_id, now, comment)
            rejected = await self._complete(tx, found, DisbursementStatus.REJECTED, now, step)
            return Done(rejected, "reject_disbursement")

        request = [str(disbursement_id), str(member_id), comment]
        return await self._transactions.write(
            community_id,
            "reject_disbursement",
            request,
            idempotency_key,
            work=work,
            result_type=Disbursement,
        )

    async def expire_overdue(self, community_id: uuid.UUID, now: datetime) -> int:
        """Voids every pending request of the community whose deadline has passed by ``now``;
        returns how many this call expired. Each is expired in its own transaction under the
        request's lock, so concurrent callers expire each request exactly once."""
        async with self._transactions.read() as tx:
            overdue = await tx.store.overdue(community_id, now)
        expired: list[uuid.UUID] = []
        for disbursement_id in overdue:

            async def work(tx: Tx, found_id: uuid.UUID = disbursement_id) -> Done[Disbursement]:
                done = await self._expire_one(tx, community_id, found_id, now)
                if done.operation is not None:
                    expired.append(found_id)
                return done

            await self._transactions.write(
                community_id,
                "expire_disbursement",
                str(disbursement_id),
                None,
                work=work,
                result_type=Disbursement,
            )
        return len(expired)

    async def get(self, community_id: uuid.UUID, disbursement_id: uuid.UUID) -> Disbursement:
        async with self._transactions.read() as tx:
            found = await tx.store.get_disbursement(community_id, disbursement_id)
        if found is None:
            raise DisbursementNotFound(f"disbursement {disbursement_id} does not exist")
        return found

    async def list_requests(
        self,
        community_id: uuid.UUID,
        *,
        status: DisbursementStatus | None = None,
        after: uuid.UUID | None = None,
        limit: int = 50,
    ) -> Sequence[Disbursement]:
        async with self._transactions.read() as tx:
            return await tx.store.list_disbursements(
                community_id, status=status, after=after, limit=limit
            )

    # Internals --------------------------------------------------------------------------------

    async def _expire_one(
        self, tx: Tx, community_id: uuid.UUID, disbursement_id: uuid.UUID, now: datetime
    ) -> Done[Disbursement]:
        found = await locked_disbursement(tx, community_id, disbursement_id)
        if found.status is not DisbursementStatus.PENDING or now < found.deadline_at:
            return Done(found, None)
        step = Step(StepAction.EXPIRE, None, now, "the deadline passed")
        expired = await self._complete(tx, found, DisbursementStatus.EXPIRED, now, step)
        return Done(expired, "expire_disbursement")

    async def _closed_or_late(
        self, tx: Tx, found: Disbursement, now: datetime
    ) -> Done[Disbursement] | None:
        """None while the request is open; otherwise the refusal — after expiring an overdue
        request, which is recorded even though the caller is refused."""
        if found.status is not DisbursementStatus.PENDING:
            raise DisbursementNotPending(f"disbursement {found.id} is {found.status}")
        if now < found.deadline_at:
            return None
        step = Step(StepAction.EXPIRE, None, now, "the deadline passed")
        expired = await self._complete(tx, found, DisbursementStatus.EXPIRED, now, step)
        refusal = DisbursementNotPending(
            f"disbursement {found.id} expired at its deadline {found.deadline_at.isoformat()}"
        )
        return Done(expired, "expire_disbursement", error=refusal)

    async def _complete(
        self,
        tx: Tx,
        found: Disbursement,
        status: DisbursementStatus,
        now: datetime,
        step: Step | None,
    ) -> Disbursement:
        entry_status = (
            EntryStatus.POSTED if status is DisbursementStatus.APPROVED else (EntryStatus.VOIDED)
        )
        await self._ledger.complete_within(tx.repo, found.community_id, found.id, entry_status)
        await tx.store.complete_disbursement(found.community_id, found.id, status, now)
        if step is None:
            step = Step(StepAction.POST, None, now, None)
        await tx.store.add_step(found.community_id, found.id, step)
        return replace(found, status=status, completed_at=now, steps=(*found.steps, step))
