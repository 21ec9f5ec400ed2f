"""Starter charts of accounts, and account groups.

A template is a small, sensible chart a community can start from; applying it opens the
accounts it lacks (and the money commodity), designates the part each account plays in the
reports (cash, a business line, external support, an essential expense, the emergency fund, the
hours pool), and leaves every account that already exists as it is — so applying it twice, or
after the treasurer changed things, opens nothing twice. Treasurers extend the chart with the
ordinary accounts API.

**Groups.** An account's code is a colon-separated path; every prefix of it is a group:
``Income:Farm`` groups ``Income:Farm`` itself and every ``Income:Farm:*``. Reports roll the
second level up (``Income:Farm`` = the farm business line, ``Expenses:Food`` = the food
category); :func:`group_of` and :func:`in_group` say which account belongs where.
"""

from __future__ import annotations

import contextlib
import enum
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ledger.audit import chain as audit
from ledger.books import idempotency
from ledger.books.communities import earlier_creation, record_creation
from ledger.books.ports import Repository
from ledger.economy.ports import Books, EconomyStore
from ledger.kernel import errors
from ledger.kernel.inputs import require_text
from ledger.kernel.model import (
    COMMODITY_CODE_PATTERN,
    HOURS,
    SLUG_PATTERN,
    Account,
    AccountType,
    Commodity,
    Community,
    IdempotencyKey,
    new_id,
)


class Designation(enum.StrEnum):
    """The part an account plays in the reports."""

    CASH = "cash"
    """Cash and bank: the cash-flow section."""
    BUSINESS_LINE = "business_line"
    """Earned income of a co-op business (farm, workshop, retreats)."""
    EXTERNAL_SUPPORT = "external_support"
    """Grants, donations, crowdfunding: income the community did not earn."""
    OTHER_INCOME = "other_income"
    """Earned income that is no business line (dues)."""
    ESSENTIAL_EXPENSE = "essential_expense"
    """An expense the community cannot go without: the emergency fund covers months of these."""
    OTHER_EXPENSE = "other_expense"
    EMERGENCY_FUND = "emergency_fund"
    HOURS_POOL = "hours_pool"
    """The community's own HOURS account: hours it gives and receives."""


@dataclass(frozen=True, slots=True)
class TemplateAccount:
    code: str
    name: str
    type: AccountType
    designation: Designation | None
    hours: bool = False
    """In HOURS rather than the template's money commodity."""
    balance_min: int | None = None


_A, _L, _E, _I, _X = (
    AccountType.ASSET,
    AccountType.LIABILITY,
    AccountType.EQUITY,
    AccountType.INCOME,
    AccountType.EXPENSE,
)
_D = Designation

COOP: Final = (
    TemplateAccount("Assets:Cash", "Cash box", _A, _D.CASH),
    TemplateAccount("Assets:Bank", "Bank account", _A, _D.CASH),
    TemplateAccount("Assets:EmergencyFund", "Emergency fund", _A, _D.EMERGENCY_FUND, balance_min=0),
    TemplateAccount("Liabilities:Payables", "Bills to pay", _L, None),
    TemplateAccount("Equity:Opening", "Opening balances", _E, None),
    TemplateAccount("Equity:HoursPool", "Community hours pool", _E, _D.HOURS_POOL, hours=True),
    TemplateAccount("Income:Farm", "Farm", _I, _D.BUSINESS_LINE),
    TemplateAccount("Income:Workshop", "Workshop", _I, _D.BUSINESS_LINE),
    TemplateAccount("Income:Retreats", "Retreats", _I, _D.BUSINESS_LINE),
    TemplateAccount("Income:Dues", "Member dues", _I, _D.OTHER_INCOME),
    TemplateAccount("Income:Grants", "Grants", _I, _D.EXTERNAL_SUPPORT),
    TemplateAccount("Income:Donations", "Donations", _I, _D.EXTERNAL_SUPPORT),
    TemplateAccount("Income:Crowdfunding", "Crowdfunding", _I, _D.EXTERNAL_SUPPORT),
    TemplateAccount("Expenses:Food", "Food", _X, _D.ESSENTIAL_EXPENSE),
    TemplateAccount("Expenses:Housing", "Rent and housing", _X, _D.ESSENTIAL_EXPENSE),
    TemplateAccount("Expenses:Utilities", "Energy and water", _X, _D.ESSENTIAL_EXPENSE),
    TemplateAccount("Expenses:Insurance", "Insurance", _X, _D.ESSENTIAL_EXPENSE),
    TemplateAccount("Expenses:FarmSupplies", "Seeds, feed and farm supplies", _X, _D.OTHER_EXPENSE),
    TemplateAccount("Expenses:Materials", "Workshop materials", _X, _D.OTHER_EXPENSE),
    TemplateAccount("Expenses:Tools", "Tools and repairs", _X, _D.OTHER_EXPENSE),
    TemplateAccount("Expenses:Travel", "Travel", _X, _D.OTHER_EXPENSE),
)
"""The co-op chart: cash and bank, the emergency fund, business lines, external support,
essential and other expenses, and the community hours pool."""

TEMPLATES: Final = {"coop": COOP}
DEFAULT_CURRENCY: Final = "EUR"
_CURRENCY_NAMES: Final = {"EUR": "Euro", "CHF": "Swiss franc", "GBP": "Pound sterling"}
_COMMODITY_CODE = re.compile(COMMODITY_CODE_PATTERN)
_SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True, slots=True)
class ChartApplied:
    """What applying a template did: the accounts it opened, and those it found (by code)."""

    template: str
    currency: str
    opened: tuple[str, ...]
    kept: tuple[str, ...]


def check_template(template: str, currency: str) -> tuple[TemplateAccount, ...]:
    """The template's accounts; ``invalid_input`` for an unknown template or a bad currency."""
    if template not in TEMPLATES:
        known = ", ".join(sorted(TEMPLATES))
        raise errors.InvalidInput(f"unknown template {template!r}; known: {known}")
    _check_currency(currency)
    return TEMPLATES[template]


def _check_currency(currency: str) -> None:
    if not isinstance(currency, str) or not _COMMODITY_CODE.match(currency) or currency == HOURS:
        raise errors.InvalidInput(
            f"currency {currency!r} must be a money commodity code such as EUR"
        )


async def apply_template(
    repo: Repository,
    store: EconomyStore,
    community_id: uuid.UUID,
    *,
    template: str,
    currency: str,
    now: datetime,
) -> ChartApplied:
    """Opens the template's missing accounts (and its money commodity, scale 2) in the caller's
    unit of work. An account whose code exists is kept as it is; it takes the template's
    designation only if it has the template's type and commodity."""
    chart = check_template(template, currency)
    if await repo.get_commodity(community_id, currency) is None:
        name = _CURRENCY_NAMES.get(currency, currency)
        with contextlib.suppress(errors.CommodityExists):  # added meanwhile, concurrently
            await repo.insert_commodity(Commodity(community_id, currency, name, 2))
    opened, kept = [], []
    for spec in chart:
        commodity = HOURS if spec.hours else currency
        existing_id = await store.account_id_by_code(community_id, spec.code)
        if existing_id is None:
            account = _account(community_id, spec, commodity, now)
            try:
                await repo.insert_account(account)
            except errors.AccountCodeExists:
                # Opened meanwhile by a concurrent application (committed): keep that one.
                existing_id = await store.account_id_by_code(community_id, spec.code)
        if existing_id is None:
            opened.append(spec.code)
            account_id = account.id
        else:
            existing = await repo.get_account(community_id, existing_id)
            kept.append(spec.code)
            if existing is None or (existing.type, existing.commodity) != (spec.type, commodity):
                continue
            account_id = existing_id
        if spec.designation is not None:
            await store.designate(community_id, account_id, spec.designation)
    return ChartApplied(template, currency, tuple(opened), tuple(kept))


def _account(
    community_id: uuid.UUID, spec: TemplateAccount, commodity: str, now: datetime
) -> Account:
    return Account(
        community_id=community_id,
        id=new_id(),
        code=spec.code,
        name=spec.name,
        type=spec.type,
        commodity=commodity,
        member_id=None,
        balance_min=spec.balance_min,
        balance_max=None,
        closed=False,
        created_at=now,
    )


def group_of(code: str, depth: int = 2) -> str:
    """The group of ``depth`` levels an account code belongs to (``Income:Farm:Eggs`` →
    ``Income:Farm``); the whole code when it is shallower."""
    return ":".join(code.split(":")[:depth])


def in_group(code: str, group: str) -> bool:
    """Whether ``code`` is ``group`` itself or lies under it (``Income:Farm:Eggs`` is in
    ``Income:Farm``; ``Income:Farmhouse`` is not)."""
    return code == group or code.startswith(group + ":")


class Charts:
    """The chart use cases: a community born with a template, or a template applied later."""

    def __init__(self, books: Books) -> None:
        self._books = books

    async def create_community(
        self,
        slug: str,
        name: str,
        *,
        template: str | None,
        currency: str | None = None,
        key: IdempotencyKey | None = None,
    ) -> tuple[Community, ChartApplied | None]:
        """What ``Ledger.create_community`` does, and the template applied (in ``currency``,
        default EUR), in one transaction: the community exists with its whole chart, or not at
        all. Without a template, ``currency`` alone is added as the money commodity. Under
        ``key``, a retry answers the same community, without the template's report
        (``ledger.books.communities``)."""
        if template is not None:
            currency = currency or DEFAULT_CURRENCY
            check_template(template, currency)
        elif currency is not None:
            _check_currency(currency)
        if not _SLUG.match(slug):
            raise errors.InvalidInput(
                f"slug {slug!r} must be 1–64 lowercase letters, digits or inner hyphens"
            )
        require_text("name", name)
        now = self._books.clock()
        community = Community(id=new_id(), slug=slug, name=name, created_at=now)
        request = {"slug": slug, "name": name, "template": template, "currency": currency}
        fingerprint = idempotency.fingerprint("create_community", request)
        async with self._books.units(write=True) as uow:
            repo = uow.repo
            earlier = await earlier_creation(repo, slug, key, fingerprint, now)
            if earlier is not None:
                return earlier, None
            applied = None
            await repo.insert_community(community)
            await repo.insert_commodity(Commodity(community.id, HOURS, "Hours", 0))
            await record_creation(repo, community, key, fingerprint)
            used = None if key is None else key.key
            await repo.append_audit(
                community.id, audit.event("create_community", used, community, now)
            )
            if template is not None and currency is not None:
                store = self._books.store_of(uow)
                applied = await apply_template(
                    repo, store, community.id, template=template, currency=currency, now=now
                )
                await repo.append_audit(
                    community.id, audit.event("apply_template", None, applied, now)
                )
            elif currency is not None:
                money = Commodity(
                    community.id, currency, _CURRENCY_NAMES.get(currency, currency), 2
                )
                await repo.insert_commodity(money)
            await uow.commit()
        return community, applied

    async def apply(
        self,
        community_id: uuid.UUID,
        template: str,
        currency: str = DEFAULT_CURRENCY,
        idempotency_key: IdempotencyKey | None = None,
    ) -> ChartApplied:
        """Applies the template to an existing community: opens what it lacks, keeps the rest."""
        check_template(template, currency)
        now = self._books.clock()

        async def work(repo: Repository, store: EconomyStore) -> ChartApplied:
            if await repo.get_community(community_id) is None:
                raise errors.CommunityNotFound(f"community {community_id} does not exist")
            return await apply_template(
                repo, store, community_id, template=template, currency=currency, now=now
            )

        return await self._books.write(
            community_id,
            "apply_template",
            [template, currency],
            idempotency_key,
            work=work,
            result_type=ChartApplied,
        )

    async def designations(self, community_id: uuid.UUID) -> dict[uuid.UUID, str]:
        async def work(_: Repository, store: EconomyStore) -> dict[uuid.UUID, str]:
            return await store.designations(community_id)

        return await self._books.read(work)


@dataclass(frozen=True, slots=True)
class GroupBalance:
    """The accounts of one group in one commodity, their balances summed in each account's
    normal direction (smallest unit of ``commodity``)."""

    group: str
    commodity: str
    accounts: int
    posted: int
    pending: int


def group_balances(accounts: Sequence[Account], depth: int) -> list[GroupBalance]:
    """The community's own accounts (not members') rolled up into groups of ``depth`` levels,
    ordered by group and commodity."""
    if type(depth) is not int or not 1 <= depth <= 10:
        raise errors.InvalidInput(f"depth must be from 1 to 10, got {depth!r}")
    totals: dict[tuple[str, str], list[int]] = {}
    for account in accounts:
        if account.member_id is not None:
            continue
        total = totals.setdefault((group_of(account.code, depth), account.commodity), [0, 0, 0])
        balance = account.balance
        total[0] += 1
        total[1] += balance.posted
        total[2] += balance.pending
    return [
        GroupBalance(group, commodity, *total)
        for (group, commodity), total in sorted(totals.items())
    ]
