"""Budgets: planned amounts per account group for a month, quarter or year, adopted by consent.

Guarantees (the budget tests of tests/ledger/test_governance.py,
tests/reports/test_budget_report.py):

- a budget is a draft until the community's rule is met — consensus (every current steward
  consents, and there is at least one) or a quorum of current stewards (``GovernanceSettings``);
  adoption happens in the transaction of the consent that meets the rule;
- a consent is a current steward's (``not_a_steward`` otherwise, also for a steward whose term
  ended); consenting twice is one consent; consents of stewards whose term has since ended do not
  count;
- adopted budgets are never edited: a revision is a new draft version that, once adopted,
  supersedes the old one from its ``effective_from``; both stay readable. A version has at most
  one adopted revision (``budget_superseded``), checked under a lock on the old version;
- budget vs actual sums posted and pending entries separately over the budget's period, per
  line, in SQL.

Audit operations: ``create_budget``, ``revise_budget``, ``consent_budget``, ``adopt_budget``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from ledger.books.envelope import Done
from ledger.governance.model import (
    Budget,
    BudgetLine,
    BudgetNotDraft,
    BudgetNotFound,
    BudgetStatus,
    BudgetSuperseded,
    BudgetVsActual,
    Consent,
    ConsentMissing,
    ConsentRule,
    GovernanceSettings,
    Role,
    check_lines,
    line_actual,
    parse_period,
)
from ledger.governance.roles import require_role
from ledger.governance.transactions import GovernanceTransactions, Tx
from ledger.kernel import errors
from ledger.kernel.inputs import require_text
from ledger.kernel.model import IdempotencyKey, new_id

COMMENT_MAX_CHARS = 500


def rule_met(
    settings: GovernanceSettings, stewards: frozenset[uuid.UUID], consented: set[uuid.UUID]
) -> bool:
    """Whether the consents of current ``stewards`` adopt a budget under the community's rule."""
    if settings.consent_rule is ConsentRule.CONSENSUS:
        return bool(stewards) and stewards <= consented
    assert settings.consent_quorum is not None
    return len(stewards & consented) >= settings.consent_quorum


def _check_comment(comment: str | None) -> None:
    if comment is not None:
        require_text("comment", comment, COMMENT_MAX_CHARS)


class Budgets:
    def __init__(self, transactions: GovernanceTransactions) -> None:
        self._transactions = transactions

    async def create(
        self,
        community_id: uuid.UUID,
        name: str,
        period: str,
        lines: Sequence[BudgetLine],
        idempotency_key: IdempotencyKey | None = None,
    ) -> Budget:
        """A draft, version 1, in force from the first day of its period once adopted."""
        require_text("name", name)
        start, end = parse_period(period)
        budget = self._draft(
            community_id,
            name=name,
            period=period,
            days=(start, end),
            lines=tuple(lines),
            version=1,
            supersedes=None,
            effective_from=start,
        )

        async def work(tx: Tx) -> Done[Budget]:
            await _check_commodities(tx, community_id, budget.lines)
            await tx.store.insert_budget(budget)
            return Done(budget, "create_budget")

        request = [name, period, list(lines)]
        return await self._transactions.write(
            community_id,
            "create_budget",
            request,
            idempotency_key,
            work=work,
            result_type=Budget,
        )

    async def revise(
        self,
        community_id: uuid.UUID,
        budget_id: uuid.UUID,
        *,
        lines: Sequence[BudgetLine],
        effective_from: date,
        name: str | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Budget:
        """A new draft version of an adopted budget, to supersede it from ``effective_from``
        (a day of the period after the old version took effect) once adopted."""
        if name is not None:
            require_text("name", name)
        check_lines(tuple(lines))

        async def work(tx: Tx) -> Done[Budget]:
            old = await _budget(tx, community_id, budget_id, lock=True)
            if old.status is BudgetStatus.DRAFT:
                raise BudgetNotDraft(f"budget {budget_id} is a draft: change it by a new draft")
            if old.status is BudgetStatus.SUPERSEDED:
                raise BudgetSuperseded(f"budget {budget_id} was revised already; revise the newer")
            if not old.effective_from < effective_from <= old.period_end:
                raise errors.InvalidInput(
                    f"a revision takes effect after {old.effective_from} and by {old.period_end}"
                )
            budget = self._draft(
                community_id,
                name=name or old.name,
                period=old.period,
                days=(old.period_start, old.period_end),
                lines=tuple(lines),
                version=old.version + 1,
                supersedes=old.id,
                effective_from=effective_from,
            )
            await _check_commodities(tx, community_id, budget.lines)
            await tx.store.insert_budget(budget)
            return Done(budget, "revise_budget")

        request = [str(budget_id), list(lines), effective_from, name]
        return await self._transactions.write(
            community_id,
            "revise_budget",
            request,
            idempotency_key,
            work=work,
            result_type=Budget,
        )

    async def consent(
        self,
        community_id: uuid.UUID,
        budget_id: uuid.UUID,
        member_id: uuid.UUID,
        comment: str | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Budget:
        """A current steward's consent; adopts the draft when it meets the rule."""
        _check_comment(comment)
        now = self._transactions.clock()

        async def work(tx: Tx) -> Done[Budget]:
            budget = await _budget(tx, community_id, budget_id, lock=True)
            if any(c.member_id == member_id for c in budget.consents):
                return Done(budget, None)
            if budget.status is not BudgetStatus.DRAFT:
                raise BudgetNotDraft(f"budget {budget_id} is {budget.status}")
            await require_role(tx, community_id, member_id, Role.STEWARD, now)
            await tx.store.insert_consent(community_id, budget_id, member_id, now, comment)
            budget = replace(budget, consents=(*budget.consents, Consent(member_id, now, comment)))
            adopted = await self._adopt_if_met(tx, budget)
            if adopted is None:
                return Done(budget, "consent_budget")
            return Done(adopted, "consent_budget", also=("adopt_budget",))

        request = [str(budget_id), str(member_id), comment]
        return await self._transactions.write(
            community_id,
            "consent_budget",
            request,
            idempotency_key,
            work=work,
            result_type=Budget,
        )

    async def adopt(
        self,
        community_id: uuid.UUID,
        budget_id: uuid.UUID,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Budget:
        """Adopts a draft whose consents meet the rule now (say, after a steward who had not
        consented left office); ``consent_missing`` otherwise."""

        async def work(tx: Tx) -> Done[Budget]:
            budget = await _budget(tx, community_id, budget_id, lock=True)
            if budget.status is not BudgetStatus.DRAFT:
                return Done(budget, None)
            adopted = await self._adopt_if_met(tx, budget)
            if adopted is None:
                raise ConsentMissing(f"budget {budget_id} lacks the consents the rule needs")
            return Done(adopted, "adopt_budget")

        return await self._transactions.write(
            community_id,
            "adopt_budget",
            str(budget_id),
            idempotency_key,
            work=work,
            result_type=Budget,
        )

    async def get(self, community_id: uuid.UUID, budget_id: uuid.UUID) -> Budget:
        async with self._transactions.read() as tx:
            return await _budget(tx, community_id, budget_id)

    async def list_budgets(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 50
    ) -> Sequence[Budget]:
        """Every version, drafts included, in creation order."""
        async with self._transactions.read() as tx:
            return await tx.store.list_budgets(community_id, after=after, limit=limit)

    async def vs_actual(self, community_id: uuid.UUID, budget_id: uuid.UUID) -> BudgetVsActual:
        async with self._transactions.read() as tx:
            budget = await _budget(tx, community_id, budget_id)
            sums = await tx.store.budget_actuals(community_id, budget)
        return vs_actual(budget, sums)

    async def _adopt_if_met(self, tx: Tx, budget: Budget) -> Budget | None:
        now = self._transactions.clock()
        settings = await tx.store.get_settings(budget.community_id)
        stewards = await tx.store.current_holders(budget.community_id, Role.STEWARD, now)
        if not rule_met(settings, stewards, {c.member_id for c in budget.consents}):
            return None
        if budget.supersedes is not None:
            old = await _budget(tx, budget.community_id, budget.supersedes, lock=True)
            if old.status is BudgetStatus.SUPERSEDED:
                raise BudgetSuperseded(f"budget {old.id} was revised by another adopted version")
        await tx.store.mark_adopted(budget.community_id, budget.id, now)
        return replace(budget, status=BudgetStatus.ADOPTED, adopted_at=now)

    def _draft(
        self,
        community_id: uuid.UUID,
        *,
        name: str,
        period: str,
        days: tuple[date, date],
        lines: tuple[BudgetLine, ...],
        version: int,
        supersedes: uuid.UUID | None,
        effective_from: date,
    ) -> Budget:
        check_lines(lines)
        return Budget(
            community_id=community_id,
            id=new_id(),
            name=name,
            period=period,
            period_start=days[0],
            period_end=days[1],
            version=version,
            supersedes=supersedes,
            effective_from=effective_from,
            effective_until=None,
            status=BudgetStatus.DRAFT,
            created_at=self._transactions.clock(),
            adopted_at=None,
            lines=lines,
            consents=(),
        )


def vs_actual(budget: Budget, sums: Mapping[int, tuple[int, int]]) -> BudgetVsActual:
    lines = tuple(
        line_actual(line, *sums.get(index, (0, 0))) for index, line in enumerate(budget.lines)
    )
    return BudgetVsActual(
        budget.id, budget.name, budget.period, budget.version, budget.status, lines
    )


async def _budget(
    tx: Tx, community_id: uuid.UUID, budget_id: uuid.UUID, *, lock: bool = False
) -> Budget:
    budget = await tx.store.get_budget(community_id, budget_id, lock=lock)
    if budget is None:
        raise BudgetNotFound(f"budget {budget_id} does not exist")
    return budget


async def _check_commodities(
    tx: Tx, community_id: uuid.UUID, lines: tuple[BudgetLine, ...]
) -> None:
    for code in sorted({line.commodity for line in lines}):
        if await tx.repo.get_commodity(community_id, code) is None:
            raise errors.CommodityNotFound(f"commodity {code!r} does not exist")
