"""The wire format of what is written to the books — members, commodities, accounts, entries —
and of their balances. Amounts are in the commodity's smallest unit (minutes for HOURS)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import msgspec

from api.http.schemas import (
    AccountCode,
    AccountId,
    Amount,
    CommodityCode,
    Description,
    Limit,
    Metadata,
    Name,
    PositiveAmount,
    Request,
)
from ledger.kernel.model import AccountType, Balance, TrialBalance


class MemberCreate(Request, frozen=True):
    name: Annotated[Name, msgspec.Meta(examples=["Ann"])]
    hours_min: Annotated[Limit, msgspec.Meta(examples=[-600])] | None = None
    """Lowest hours balance allowed, in minutes (e.g. -600 for ten hours in debt)."""
    hours_max: Limit | None = None


class CommodityCreate(Request, frozen=True):
    code: Annotated[CommodityCode, msgspec.Meta(examples=["EUR"])]
    name: Annotated[Name, msgspec.Meta(examples=["Euro"])]
    scale: Annotated[int, msgspec.Meta(ge=0, le=9, examples=[2])]


class AccountCreate(Request, frozen=True):
    code: AccountCode
    name: Annotated[Name, msgspec.Meta(examples=["Cash box"])]
    type: AccountType
    commodity: Annotated[CommodityCode, msgspec.Meta(examples=["HOURS"])]
    member_id: uuid.UUID | None = None
    min_balance: Limit | None = None
    max_balance: Limit | None = None


class AccountPatch(Request, frozen=True):
    name: Annotated[Name, msgspec.Meta(examples=["Petty cash"])] | msgspec.UnsetType = msgspec.UNSET
    min_balance: Limit | msgspec.UnsetType | None = msgspec.UNSET
    max_balance: Limit | msgspec.UnsetType | None = msgspec.UNSET
    closed: Annotated[bool, msgspec.Meta(examples=[False])] | msgspec.UnsetType = msgspec.UNSET


class BalanceOut(msgspec.Struct, frozen=True):
    account_id: uuid.UUID
    commodity: str
    posted: int
    pending: int
    available: int
    as_of: date | None

    @staticmethod
    def of(balance: Balance) -> BalanceOut:
        return BalanceOut(
            balance.account_id,
            balance.commodity,
            balance.posted,
            balance.pending,
            balance.available,
            balance.as_of,
        )


class TrialBalanceLineOut(msgspec.Struct, frozen=True):
    account_id: uuid.UUID
    code: str
    name: Annotated[str, msgspec.Meta(examples=["Hours of Bob Gardener"])]
    """The account's name, as people read it."""
    member_name: Annotated[str, msgspec.Meta(examples=["Bob Gardener"])] | None
    """The name of the member whose account it is; null for the community's own accounts."""
    type: AccountType
    debit: int
    credit: int


class CommodityTrialBalanceOut(msgspec.Struct, frozen=True):
    commodity: str
    lines: list[TrialBalanceLineOut]
    total_debit: int
    total_credit: int


class TrialBalanceOut(msgspec.Struct, frozen=True):
    as_of: date | None
    commodities: list[CommodityTrialBalanceOut]

    @staticmethod
    def of(trial: TrialBalance) -> TrialBalanceOut:
        return TrialBalanceOut(
            as_of=trial.as_of,
            commodities=[
                CommodityTrialBalanceOut(
                    commodity=c.commodity,
                    lines=[
                        TrialBalanceLineOut(
                            line.account_id,
                            line.code,
                            line.name,
                            line.member_name,
                            line.type,
                            line.debit,
                            line.credit,
                        )
                        for line in c.lines
                    ],
                    total_debit=c.total_debit,
                    total_credit=c.total_credit,
                )
                for c in trial.commodities
            ],
        )


class PostingIn(Request, frozen=True):
    account_id: AccountId
    amount: Amount
    """Positive debits, negative credits, in the account commodity's smallest unit."""


_BALANCED = [
    {"account_id": "0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e1f", "amount": 90},
    {"account_id": "0190f1c2-7a3b-7c4d-8e5f-6a7b8c9d0e20", "amount": -90},
]


class EntryCreate(Request, frozen=True):
    postings: Annotated[
        list[PostingIn], msgspec.Meta(min_length=2, max_length=100, examples=[_BALANCED])
    ]
    """At least two postings, as every entry has (the schema states it; ``too_few_postings``
    is the ledger's code for the same rule on its other paths)."""
    description: Description = ""
    pending: bool = False
    effective_date: date | None = None
    metadata: Metadata = msgspec.field(default_factory=dict)


class TransferCreate(Request, frozen=True):
    debit_account_id: AccountId
    credit_account_id: AccountId
    amount: PositiveAmount
    description: Annotated[Description, msgspec.Meta(min_length=1)]
    """What the money or time was for: required (CONTRACT §2)."""
    pending: bool = False
    effective_date: date | None = None
    metadata: Metadata = msgspec.field(default_factory=dict)


class ReverseRequest(Request, frozen=True):
    description: Description | None = None
    effective_date: date | None = None
