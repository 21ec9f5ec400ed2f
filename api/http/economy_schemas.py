"""The wire format of the cooperative economy: charts, restricted funds, barter, schedules."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from api.http.book_schemas import BalanceOut
from api.http.schemas import (
    NO_NUL,
    AccountId,
    ChartTemplate,
    CommodityCode,
    Description,
    Name,
    PositiveAmount,
    Request,
)
from ledger.economy.barter import (
    ITEM_DESCRIPTION_MAX_CHARS,
    ITEMS_MAX,
    Barter,
    BarterItem,
    BarterSide,
)
from ledger.economy.chart import ChartApplied, GroupBalance
from ledger.economy.funds import FUND_CODE_PATTERN, FundMovement, FundView
from ledger.economy.schedules import Frequency, NewSchedule, ScheduleStatus, ScheduleView

Currency = Annotated[CommodityCode, msgspec.Meta(examples=["EUR", "CHF"])]


class TemplateApply(Request, frozen=True):
    template: ChartTemplate = ChartTemplate.COOP
    currency: Currency = "EUR"
    """The money commodity the template's accounts are kept in (added, scale 2, if missing)."""


class ChartAppliedOut(msgspec.Struct, frozen=True):
    template: ChartTemplate
    currency: str
    opened: list[str]
    """Codes of the accounts the template opened."""
    kept: list[str]
    """Codes of the template's accounts that existed already and were left as they were."""

    @staticmethod
    def of(applied: ChartApplied) -> ChartAppliedOut:
        return ChartAppliedOut(
            ChartTemplate(applied.template),
            applied.currency,
            list(applied.opened),
            list(applied.kept),
        )


class GroupBalanceOut(msgspec.Struct, frozen=True):
    group: str
    """The code prefix (``Income:Farm`` holds ``Income:Farm`` and every ``Income:Farm:*``)."""
    commodity: str
    accounts: int
    posted: int
    """Sum of the accounts' posted balances, each in its normal direction, smallest unit."""
    pending: int

    @staticmethod
    def of(group: GroupBalance) -> GroupBalanceOut:
        return GroupBalanceOut(
            group.group, group.commodity, group.accounts, group.posted, group.pending
        )


# Restricted funds -----------------------------------------------------------------------------


class FundCreate(Request, frozen=True):
    name: Annotated[Name, msgspec.Meta(examples=["Greenhouse grant"])]
    code: Annotated[str, msgspec.Meta(pattern=FUND_CODE_PATTERN, examples=["Greenhouse"])]
    """The last part of the fund's account code: ``<held in>:<code>``."""
    held_in_account_id: AccountId
    """The asset account the money sits in (e.g. ``Assets:Bank``)."""
    purpose: Description = ""


class FundMovementCreate(Request, frozen=True):
    account_id: AccountId
    """Income: the income account the money comes from (``Income:Grants``). Spending: the
    expense account it pays (``Expenses:Tools``)."""
    amount: PositiveAmount
    description: Description = ""
    effective_date: date | None = None

    def to_domain(self) -> FundMovement:
        return FundMovement(self.account_id, self.amount, self.description, self.effective_date)


class FundOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    name: str
    purpose: str
    account_id: uuid.UUID
    """The fund's own asset account (floor 0)."""
    account_code: str
    commodity: str
    balance: BalanceOut
    """What the fund holds, in the commodity's smallest unit: ``available`` is what may still be
    spent, counting pending entries."""
    created_at: datetime

    @staticmethod
    def of(view: FundView) -> FundOut:
        fund = view.fund
        return FundOut(
            fund.id, fund.name, fund.purpose, fund.account_id, view.account_code,
            view.commodity, BalanceOut.of(view.balance), fund.created_at,
        )  # fmt: skip


# Barter -----------------------------------------------------------------------------------------


class BarterItemIn(Request, frozen=True):
    commodity: Annotated[CommodityCode, msgspec.Meta(examples=["EGGS"])]
    quantity: PositiveAmount
    """Smallest unit: minutes for HOURS, a count for goods."""
    description: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=ITEM_DESCRIPTION_MAX_CHARS, pattern=NO_NUL),
    ]


class BarterSideIn(Request, frozen=True):
    member_id: uuid.UUID | None
    """A member, or null for the community itself."""
    gives: Annotated[list[BarterItemIn], msgspec.Meta(min_length=1, max_length=ITEMS_MAX)]

    def to_domain(self) -> BarterSide:
        return BarterSide(
            self.member_id,
            tuple(BarterItem(i.commodity, i.quantity, i.description) for i in self.gives),
        )


_SIDES = [
    {
        "member_id": "0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f",
        "gives": [{"commodity": "EGGS", "quantity": 12, "description": "A dozen eggs"}],
    },
    {
        "member_id": "0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e20",
        "gives": [{"commodity": "HOURS", "quantity": 60, "description": "An hour of weeding"}],
    },
]


class BarterCreate(Request, frozen=True):
    sides: Annotated[
        list[BarterSideIn], msgspec.Meta(min_length=2, max_length=2, examples=[_SIDES])
    ]
    description: Description = ""
    effective_date: date | None = None


class BarterItemOut(msgspec.Struct, frozen=True):
    commodity: str
    quantity: int
    description: str


class BarterSideOut(msgspec.Struct, frozen=True):
    member_id: uuid.UUID | None
    gives: list[BarterItemOut]


class BarterOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    """Also the id of the barter's journal entry."""
    description: str
    sides: list[BarterSideOut]
    effective_date: date
    created_at: datetime

    @staticmethod
    def of(barter: Barter) -> BarterOut:
        sides = [
            BarterSideOut(
                side.member_id,
                [BarterItemOut(i.commodity, i.quantity, i.description) for i in side.gives],
            )
            for side in barter.sides
        ]
        return BarterOut(
            barter.id, barter.description, sides, barter.effective_date, barter.created_at
        )


# Schedules --------------------------------------------------------------------------------------


class ScheduleCreate(Request, frozen=True):
    description: Annotated[Description, msgspec.Meta(min_length=1, examples=["Monthly dues"])]
    debit_account_id: AccountId
    credit_account_id: AccountId
    amount: PositiveAmount
    frequency: Frequency
    start_date: date
    """The first occurrence; monthly and longer keep its day of the month (clamped)."""
    end_date: date | None = None

    def to_domain(self) -> NewSchedule:
        return NewSchedule(
            self.description, self.debit_account_id, self.credit_account_id, self.amount,
            Frequency(self.frequency), self.start_date, self.end_date,
        )  # fmt: skip


class ScheduleOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    description: str
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    frequency: Frequency
    start_date: date
    end_date: date | None
    status: ScheduleStatus
    """``active``, ``paused`` or ``ended``."""
    resumed_on: date | None
    materialised: int
    """Occurrences written so far."""
    last_period: date | None
    next_period: date | None
    created_at: datetime

    @staticmethod
    def of(view: ScheduleView) -> ScheduleOut:
        s = view.schedule
        return ScheduleOut(
            s.id, s.description, s.debit_account_id, s.credit_account_id, s.amount,
            Frequency(s.frequency), s.start_date, s.end_date, ScheduleStatus(s.status),
            s.resumed_on, view.materialised, view.last_period, view.next_period, s.created_at,
        )  # fmt: skip


class OccurrenceOut(msgspec.Struct, frozen=True):
    period: date
    entry_id: uuid.UUID
