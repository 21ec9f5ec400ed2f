"""Governance values: role terms, settings, budgets and disbursement requests, and the errors
governance use cases raise (each with a stable code, like every ledger error).

Amounts are integers in the smallest unit of their commodity (minutes for ``HOURS``).
"""

from __future__ import annotations

import calendar
import enum
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from ledger.kernel import errors

# Errors ------------------------------------------------------------------------------------


class NotASteward(errors.LedgerError):
    """The acting member holds no current steward term."""

    code = "not_a_steward"


class NotATreasurer(errors.LedgerError):
    """The acting member holds no current treasurer term."""

    code = "not_a_treasurer"


class RoleTermNotFound(errors.NotFound):
    code = "role_term_not_found"


class BudgetNotFound(errors.NotFound):
    code = "budget_not_found"


class BudgetNotDraft(errors.LedgerError):
    """Adopted budgets are never edited nor consented to again."""

    code = "budget_not_draft"


class BudgetSuperseded(errors.LedgerError):
    """The budget already has an adopted revision; revise that one instead."""

    code = "budget_superseded"


class ConsentMissing(errors.LedgerError):
    """The community's rule (consensus or quorum) is not met yet."""

    code = "consent_missing"


class DisbursementNotFound(errors.NotFound):
    code = "disbursement_not_found"


class DisbursementNotPending(errors.LedgerError):
    """The request was already approved, rejected or has expired."""

    code = "disbursement_not_pending"


class SelfApproval(errors.LedgerError):
    """The requester of a disbursement can never approve it."""

    code = "self_approval"


class FundNotConfigured(errors.LedgerError):
    """The community has designated no emergency-fund account."""

    code = "fund_not_configured"


GOVERNANCE_ERRORS: Final = (
    NotASteward,
    NotATreasurer,
    RoleTermNotFound,
    BudgetNotFound,
    BudgetNotDraft,
    BudgetSuperseded,
    ConsentMissing,
    DisbursementNotFound,
    DisbursementNotPending,
    SelfApproval,
    FundNotConfigured,
)
# An idempotent replay rebuilds a stored rejection by its code: it must know these codes too.
errors.ERROR_TYPES.update({cls.code: cls for cls in GOVERNANCE_ERRORS})

# Roles -------------------------------------------------------------------------------------


class Role(enum.StrEnum):
    STEWARD = "steward"
    """Consents to budgets, approves emergency-fund disbursements, confirms any exchange."""
    TREASURER = "treasurer"
    """Acts with the ``treasurer`` scope across the community, assigns roles."""


@dataclass(frozen=True, slots=True)
class RoleTerm:
    """A member holds ``role`` from ``starts_at`` until ``ends_at`` (excluded; None: open)."""

    community_id: uuid.UUID
    id: uuid.UUID
    member_id: uuid.UUID
    role: Role
    starts_at: datetime
    ends_at: datetime | None
    assigned_at: datetime
    ended_at: datetime | None
    """When the term was cut short by ``end_role``; None if it runs as assigned."""

    def current(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


# Settings ----------------------------------------------------------------------------------


class ConsentRule(enum.StrEnum):
    CONSENSUS = "consensus"
    """Every current steward consents (and there is at least one)."""
    QUORUM = "quorum"
    """``consent_quorum`` current stewards consent."""


@dataclass(frozen=True, slots=True)
class GovernanceSettings:
    community_id: uuid.UUID
    consent_rule: ConsentRule = ConsentRule.CONSENSUS
    consent_quorum: int | None = None
    approvals_required: int = 2
    """Distinct current stewards whose approval posts a disbursement."""
    request_days: int = 7
    """A disbursement request's default deadline, in days from the request."""
    fund_account_id: uuid.UUID | None = None
    fund_target: int | None = None
    """A fixed target, smallest unit of the fund's commodity."""
    fund_target_months: int | None = None
    """Or a target of this many months of expenses (average of the last three full months)."""
    updated_at: datetime | None = None


SETTING_MAX: Final = 1000


def check_settings(settings: GovernanceSettings) -> None:
    quorum = settings.consent_quorum
    if (settings.consent_rule is ConsentRule.QUORUM) != (quorum is not None):
        raise errors.InvalidInput("consent_quorum is set exactly when consent_rule is quorum")
    for name in ("consent_quorum", "approvals_required", "request_days", "fund_target_months"):
        value = getattr(settings, name)
        if value is not None and (type(value) is not int or not 1 <= value <= SETTING_MAX):
            raise errors.InvalidInput(f"{name} must be a whole number from 1 to {SETTING_MAX}")
    target = settings.fund_target
    if target is not None and (type(target) is not int or not 0 <= target <= 2**53 - 1):
        raise errors.InvalidInput("fund_target must be a whole number from 0 to 2**53 - 1")
    if target is not None and settings.fund_target_months is not None:
        raise errors.InvalidInput("set fund_target or fund_target_months, not both")


# Budgets -----------------------------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")
GROUP_PATTERN: Final = r"^[^:\s][^:]*(:[^:\s][^:]*)*$"
_GROUP = re.compile(GROUP_PATTERN)
LINES_MAX: Final = 200


def parse_period(text: str) -> tuple[date, date]:
    """A budget period — ``2026-11``, ``2026-Q4`` or ``2026`` — as its first and last day."""
    if not isinstance(text, str) or not text[:4].isdigit() or int(text[:4]) < 1:
        raise errors.InvalidInput(f"{text!r} is no budget period: use 2026-11, 2026-Q4 or 2026")
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        return date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter)
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        return date(year, month, 1), _month_end(year, month)
    if match := _YEAR.match(text):
        year = int(match[1])
        return date(year, 1, 1), date(year, 12, 31)
    raise errors.InvalidInput(f"{text!r} is no budget period: use 2026-11, 2026-Q4 or 2026")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


class BudgetStatus(enum.StrEnum):
    DRAFT = "draft"
    ADOPTED = "adopted"
    SUPERSEDED = "superseded"
    """Adopted, and a later adopted version takes over from its ``effective_until`` + 1 day."""


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """Planned ``amount`` (smallest unit of ``commodity``) for an account group: the account of
    that code and every account under it (``Expenses:Food`` covers ``Expenses:Food:Bread``)."""

    account_group: str
    commodity: str
    amount: int


def check_lines(lines: tuple[BudgetLine, ...]) -> None:
    if not 1 <= len(lines) <= LINES_MAX:
        raise errors.InvalidInput(f"a budget has 1 to {LINES_MAX} lines")
    seen = set()
    for line in lines:
        if (
            not isinstance(line.account_group, str)
            or not _GROUP.match(line.account_group)
            or (len(line.account_group) > 120)
        ):
            raise errors.InvalidInput(
                f"account group {line.account_group!r} must be an account code or a prefix of "
                "colon-separated parts, at most 120 characters"
            )
        if type(line.amount) is not int or not 0 <= line.amount <= 2**53 - 1:
            raise errors.InvalidInput("a planned amount is a whole number from 0 to 2**53 - 1")
        if (line.account_group, line.commodity) in seen:
            raise errors.InvalidInput(
                f"{line.account_group} in {line.commodity} appears twice in the budget"
            )
        seen.add((line.account_group, line.commodity))


@dataclass(frozen=True, slots=True)
class Consent:
    member_id: uuid.UUID
    consented_at: datetime
    comment: str | None


@dataclass(frozen=True, slots=True)
class Budget:
    """One version of a budget. Drafts gather consents; adoption freezes it for good."""

    community_id: uuid.UUID
    id: uuid.UUID
    name: str
    period: str
    period_start: date
    period_end: date
    version: int
    supersedes: uuid.UUID | None
    """The version this one revises (adopted, of the same period)."""
    effective_from: date
    effective_until: date | None
    """The day before an adopted revision takes over; None while none does."""
    status: BudgetStatus
    created_at: datetime
    adopted_at: datetime | None
    lines: tuple[BudgetLine, ...]
    consents: tuple[Consent, ...]


@dataclass(frozen=True, slots=True)
class LineActual:
    """A budget line against the books over the budget's period. ``actual`` sums posted
    entries, ``pending`` pending ones, both in the accounts' normal direction (expenses: debits −
    credits; income: credits − debits). ``variance`` is planned − actual (left to spend, or
    income still to come); ``used`` is actual / planned to four places, None when planned is 0."""

    account_group: str
    commodity: str
    planned: int
    actual: int
    pending: int
    variance: int
    used: Decimal | None


@dataclass(frozen=True, slots=True)
class BudgetVsActual:
    budget_id: uuid.UUID
    name: str
    period: str
    version: int
    status: BudgetStatus
    lines: tuple[LineActual, ...]


_FOUR_PLACES = Decimal("0.0001")


def line_actual(line: BudgetLine, actual: int, pending: int) -> LineActual:
    used = None
    if line.amount:
        used = (Decimal(actual) / Decimal(line.amount)).quantize(_FOUR_PLACES, ROUND_HALF_EVEN)
    return LineActual(
        line.account_group,
        line.commodity,
        line.amount,
        actual,
        pending,
        line.amount - actual,
        used,
    )


# Emergency fund ----------------------------------------------------------------------------


class DisbursementStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    """Enough stewards approved: the entry is posted."""
    REJECTED = "rejected"
    """A steward rejected it: the entry is voided."""
    EXPIRED = "expired"
    """The deadline passed first: the entry is voided."""


class StepAction(enum.StrEnum):
    REQUEST = "request"
    APPROVE = "approve"
    REJECT = "reject"
    EXPIRE = "expire"
    POST = "post"


@dataclass(frozen=True, slots=True)
class Step:
    action: StepAction
    member_id: uuid.UUID | None
    at: datetime
    comment: str | None


@dataclass(frozen=True, slots=True)
class Disbursement:
    """A request to spend from the emergency fund; ``id`` is its pending entry's id."""

    community_id: uuid.UUID
    id: uuid.UUID
    fund_account_id: uuid.UUID
    payee_account_id: uuid.UUID
    amount: int
    """Smallest unit of the fund's commodity."""
    commodity: str
    reason: str
    requested_by: uuid.UUID | None
    approvals_required: int
    approvals: tuple[uuid.UUID, ...]
    """The distinct stewards who approved, in order."""
    deadline_at: datetime
    status: DisbursementStatus
    created_at: datetime
    completed_at: datetime | None
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class FundStatus:
    account_id: uuid.UUID
    commodity: str
    posted: int
    pending_out: int
    """Reserved by pending disbursements."""
    available: int
    target: int | None
    target_basis: str
    """``amount``, ``N months of expenses`` or ``no target set``."""
    funded: Decimal | None
    """posted / target to four places; None without a target (or a target of 0)."""


def ratio(part: int, whole: int | None) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_FOUR_PLACES, ROUND_HALF_EVEN)
