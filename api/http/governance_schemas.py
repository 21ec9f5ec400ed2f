"""The wire format of governance: roles, settings, budgets, the emergency fund."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from api.http.schemas import NO_NUL, CommodityCode, MemberId, Name
from ledger.governance.model import (
    Budget,
    BudgetLine,
    BudgetStatus,
    BudgetVsActual,
    ConsentRule,
    Disbursement,
    DisbursementStatus,
    FundStatus,
    GovernanceSettings,
    Role,
    RoleTerm,
    StepAction,
)
from ledger.kernel.model import AMOUNT_ABS_MAX

Comment = Annotated[
    str, msgspec.Meta(min_length=1, max_length=500, pattern=NO_NUL, examples=["Agreed"])
]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=NO_NUL)]
Group = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=120, pattern=NO_NUL, examples=["Expenses:Food"]),
]
Planned = Annotated[int, msgspec.Meta(ge=0, le=AMOUNT_ABS_MAX, examples=[50000])]
Positive = Annotated[int, msgspec.Meta(ge=1, le=AMOUNT_ABS_MAX, examples=[25000])]
Small = Annotated[int, msgspec.Meta(ge=1, le=1000)]
PeriodText = Annotated[
    str,
    msgspec.Meta(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$", examples=["2026-Q4"]),
]


class RoleAssign(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    member_id: MemberId
    role: Role
    starts_at: datetime | None = None
    """Default: now."""
    ends_at: datetime | None = None
    """Excluded; none: until the term is ended."""


class RoleTermOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    member_id: uuid.UUID
    role: Role
    starts_at: datetime
    ends_at: datetime | None
    assigned_at: datetime
    ended_at: datetime | None
    current: bool

    @staticmethod
    def of(term: RoleTerm, now: datetime) -> RoleTermOut:
        return RoleTermOut(
            term.id,
            term.member_id,
            term.role,
            term.starts_at,
            term.ends_at,
            term.assigned_at,
            term.ended_at,
            term.current(now),
        )


class GovernanceSettingsIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    consent_rule: ConsentRule = ConsentRule.CONSENSUS
    consent_quorum: Small | None = None
    approvals_required: Small = 2
    request_days: Small = 7
    fund_account_id: uuid.UUID | None = None
    fund_target: Annotated[int, msgspec.Meta(le=AMOUNT_ABS_MAX, examples=[500000])] | None = None
    """Smallest unit of the fund's commodity, from 0 (a negative one is 422 ``invalid_input``:
    a bound of 0 on an optional field would not reach the OpenAPI document)."""
    fund_target_months: Small | None = None

    def to_domain(self, community_id: uuid.UUID) -> GovernanceSettings:
        return GovernanceSettings(
            community_id=community_id,
            consent_rule=ConsentRule(self.consent_rule),
            consent_quorum=self.consent_quorum,
            approvals_required=self.approvals_required,
            request_days=self.request_days,
            fund_account_id=self.fund_account_id,
            fund_target=self.fund_target,
            fund_target_months=self.fund_target_months,
        )


class GovernanceSettingsOut(msgspec.Struct, frozen=True):
    consent_rule: ConsentRule
    consent_quorum: int | None
    approvals_required: int
    request_days: int
    fund_account_id: uuid.UUID | None
    fund_target: int | None
    fund_target_months: int | None
    updated_at: datetime | None

    @staticmethod
    def of(s: GovernanceSettings) -> GovernanceSettingsOut:
        return GovernanceSettingsOut(
            s.consent_rule,
            s.consent_quorum,
            s.approvals_required,
            s.request_days,
            s.fund_account_id,
            s.fund_target,
            s.fund_target_months,
            s.updated_at,
        )


class BudgetLineIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    account_group: Group
    """An account code, or a prefix: ``Expenses:Food`` covers ``Expenses:Food:*`` too."""
    commodity: CommodityCode
    amount: Planned
    """Planned, in the commodity's smallest unit (minutes for HOURS)."""

    def to_domain(self) -> BudgetLine:
        return BudgetLine(self.account_group, self.commodity, self.amount)


class BudgetCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name
    period: PeriodText
    lines: Annotated[list[BudgetLineIn], msgspec.Meta(min_length=1, max_length=200)]


class BudgetRevise(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    effective_from: date
    lines: Annotated[list[BudgetLineIn], msgspec.Meta(min_length=1, max_length=200)]
    name: Name | None = None


class CommentIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    comment: Comment | None = None


class ConsentOut(msgspec.Struct, frozen=True):
    member_id: uuid.UUID
    consented_at: datetime
    comment: str | None


class BudgetLineOut(msgspec.Struct, frozen=True):
    account_group: str
    commodity: str
    amount: int


class BudgetOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    name: str
    period: str
    period_start: date
    period_end: date
    version: int
    supersedes: uuid.UUID | None
    effective_from: date
    effective_until: date | None
    status: BudgetStatus
    """``draft``, ``adopted`` or ``superseded``."""
    created_at: datetime
    adopted_at: datetime | None
    lines: list[BudgetLineOut]
    consents: list[ConsentOut]

    @staticmethod
    def of(b: Budget) -> BudgetOut:
        return BudgetOut(
            id=b.id,
            name=b.name,
            period=b.period,
            period_start=b.period_start,
            period_end=b.period_end,
            version=b.version,
            supersedes=b.supersedes,
            effective_from=b.effective_from,
            effective_until=b.effective_until,
            status=b.status,
            created_at=b.created_at,
            adopted_at=b.adopted_at,
            lines=[BudgetLineOut(x.account_group, x.commodity, x.amount) for x in b.lines],
            consents=[ConsentOut(c.member_id, c.consented_at, c.comment) for c in b.consents],
        )


class LineActualOut(msgspec.Struct, frozen=True):
    account_group: str
    commodity: str
    planned: int
    actual: int
    """Posted, in the accounts' normal direction."""
    pending: int
    variance: int
    """planned − actual."""
    used: Decimal | None
    """actual / planned, four places (``0.4300`` = 43 %); null when planned is 0."""


class BudgetVsActualOut(msgspec.Struct, frozen=True):
    budget_id: uuid.UUID
    name: str
    period: str
    version: int
    status: BudgetStatus
    lines: list[LineActualOut]

    @staticmethod
    def of(v: BudgetVsActual) -> BudgetVsActualOut:
        return BudgetVsActualOut(
            v.budget_id,
            v.name,
            v.period,
            v.version,
            v.status,
            [
                LineActualOut(
                    x.account_group, x.commodity, x.planned, x.actual, x.pending, x.variance, x.used
                )
                for x in v.lines
            ],
        )


class DisbursementCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    payee_account_id: uuid.UUID
    amount: Positive
    """Smallest unit of the fund's commodity."""
    reason: Reason
    deadline_at: datetime | None = None
    """Default: the community's ``request_days`` from now."""


class StepOut(msgspec.Struct, frozen=True):
    action: StepAction
    member_id: uuid.UUID | None
    at: datetime
    comment: str | None


class DisbursementOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    """Also the id of its journal entry."""
    status: DisbursementStatus
    """``pending``, ``approved`` (posted), ``rejected`` or ``expired`` (voided)."""
    fund_account_id: uuid.UUID
    payee_account_id: uuid.UUID
    amount: int
    commodity: str
    reason: str
    requested_by: uuid.UUID | None
    approvals_required: int
    approvals: list[uuid.UUID]
    deadline_at: datetime
    created_at: datetime
    completed_at: datetime | None
    steps: list[StepOut]

    @staticmethod
    def of(d: Disbursement) -> DisbursementOut:
        return DisbursementOut(
            id=d.id,
            status=d.status,
            fund_account_id=d.fund_account_id,
            payee_account_id=d.payee_account_id,
            amount=d.amount,
            commodity=d.commodity,
            reason=d.reason,
            requested_by=d.requested_by,
            approvals_required=d.approvals_required,
            approvals=list(d.approvals),
            deadline_at=d.deadline_at,
            created_at=d.created_at,
            completed_at=d.completed_at,
            steps=[StepOut(s.action, s.member_id, s.at, s.comment) for s in d.steps],
        )


class FundStatusOut(msgspec.Struct, frozen=True):
    account_id: uuid.UUID
    commodity: str
    posted: int
    pending_out: int
    available: int
    target: int | None
    target_basis: str
    funded: Decimal | None

    @staticmethod
    def of(f: FundStatus) -> FundStatusOut:
        return FundStatusOut(
            f.account_id,
            f.commodity,
            f.posted,
            f.pending_out,
            f.available,
            f.target,
            f.target_basis,
            f.funded,
        )
