"""The starter chart of accounts, applied after a community was created.

A ``treasurer`` key applies a template; accounts whose codes exist are kept as they are, so
applying it again opens nothing. (``POST /communities`` takes ``template`` to start with it.)
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from api.http.common.auth import principal_of, requires
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.economy_schemas import ChartAppliedOut, GroupBalanceOut, TemplateApply
from api.http.schemas import Page
from ledger.access.principals import Scope
from ledger.books.service import Ledger
from ledger.economy.chart import group_balances
from ledger.economy.service import Economy
from ledger.kernel.model import Community


@post(
    "/chart/template",
    summary="Apply a starter chart of accounts (opens what is missing, keeps what exists)",
    description=(
        "The `coop` template: cash and bank, the emergency fund (`Assets:EmergencyFund`), the "
        "business lines `Income:Farm`, `Income:Workshop`, `Income:Retreats`, member dues, "
        "`Income:Grants`, `Income:Donations`, `Income:Crowdfunding`, essential and other "
        "expense categories (`Expenses:Food` …) and the community hours pool "
        "(`Equity:HoursPool`, HOURS), in `currency` (added with scale 2 if missing). Each "
        "account is designated for the reports (earned income, external support, essential "
        "expenses, emergency fund)."
    ),
    responses=problems(*COMMUNITY, 403, 413, codes=["invalid_input", *IDEMPOTENT]),
    guards=[requires(Scope.TREASURER)],
    status_code=HTTP_200_OK,
    tags=["accounts"],
)
async def apply_template(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    economy: NamedDependency[Economy],
    data: JSONBody[TemplateApply],
    idempotency_key: IdempotencyHeader = None,
) -> ChartAppliedOut:
    applied = await economy.charts.apply(
        community.id,
        data.template,
        data.currency,
        key_of(principal_of(request), idempotency_key),
    )
    return ChartAppliedOut.of(applied)


GroupDepth = Annotated[
    int,
    QueryParameter(ge=1, le=10, description="levels of the code a group keeps (2: Income:Farm)"),
]


@get(
    "/account-groups",
    summary="The community's accounts rolled up by code prefix (Income:Farm holds Income:Farm:*)",
    responses=problems(*COMMUNITY, 403),
    guards=[requires(Scope.READ)],
    tags=["accounts"],
)
async def list_account_groups(
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    depth: GroupDepth = 2,
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> Page[GroupBalanceOut]:
    """Member accounts are left out; balances are now (posted and pending)."""
    accounts = await ledger.list_accounts(community.id)
    after = decode_cursor(cursor, tuple[str, str])
    found = [
        g for g in group_balances(accounts, depth)
        if after is None or (g.group, g.commodity) > after
    ]  # fmt: skip
    return page_of(found[: limit + 1], limit, GroupBalanceOut.of, lambda g: (g.group, g.commodity))


COMMUNITY_HANDLERS = [apply_template, list_account_groups]
