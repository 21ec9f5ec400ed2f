"""The chart of accounts, balances and statements."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
from litestar import Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from api.http.book_schemas import AccountCreate, AccountPatch, BalanceOut
from api.http.common.auth import principal_of, requires
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import (
    AsOf,
    Cursor,
    PageLimit,
    decode_cursor,
    encode_cursor,
    page_of,
)
from api.http.common.visibility import check_account
from api.http.schemas import AccountOut, Page, StatementLineOut
from ledger.access.principals import Principal, Scope
from ledger.books.service import KEEP, AccountChange, Ledger, NewAccount
from ledger.kernel.model import AccountType, Community, StatementCursor


async def _visible_account(
    ledger: Ledger, principal: Principal, community: Community, account_id: uuid.UUID
) -> AccountOut:
    account = await ledger.get_account(community.id, account_id)
    check_account(principal, account)
    return AccountOut.of(account)


class _StatementPosition(msgspec.Struct, array_like=True, frozen=True):
    effective_date: date
    entry_id: uuid.UUID
    line: int


class AccountsController(Controller):
    path = "/accounts"
    tags = ("accounts",)
    guards = (requires(Scope.READ, members=True),)

    @post(
        summary="Open an account",
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "commodity_not_found",
                "member_not_found",
                "account_code_exists",
                "invalid_input",
                *IDEMPOTENT,
            ],
        ),
        guards=[requires(Scope.TREASURER)],
    )
    async def open_account(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        data: JSONBody[AccountCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> AccountOut:
        spec = NewAccount(
            code=data.code,
            name=data.name,
            type=AccountType(data.type),
            commodity=data.commodity,
            member_id=data.member_id,
            balance_min=data.min_balance,
            balance_max=data.max_balance,
        )
        return AccountOut.of(
            await ledger.open_account(
                community.id, spec, key_of(principal_of(request), idempotency_key)
            )
        )

    @get(
        summary="List accounts by code (a member token: its own)",
        responses=problems(*COMMUNITY),
    )
    async def list_accounts(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[AccountOut]:
        principal = principal_of(request)
        found = await ledger.list_accounts(
            community.id,
            member_id=principal.member_id if principal.is_member else None,
            after_code=decode_cursor(cursor, str),
            limit=limit + 1,
        )
        return page_of(found, limit, AccountOut.of, lambda account: account.code)

    @get(
        "/{account_id:uuid}",
        summary="Read an account",
        responses=problems(*COMMUNITY, codes=["account_not_found"]),
    )
    async def read_account(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        account_id: FromPath[uuid.UUID],
    ) -> AccountOut:
        return await _visible_account(ledger, principal_of(request), community, account_id)

    @patch(
        "/{account_id:uuid}",
        summary="Rename, change limits, close or reopen an account",
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "account_not_found",
                "limits_violated_by_balance",
                "account_has_pending",
                "account_has_balance",
                "invalid_input",
                *IDEMPOTENT,
            ],
        ),
        guards=[requires(Scope.TREASURER)],
    )
    async def update_account(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        account_id: FromPath[uuid.UUID],
        data: JSONBody[AccountPatch],
        idempotency_key: IdempotencyHeader = None,
    ) -> AccountOut:
        change = AccountChange(
            name=KEEP if data.name is msgspec.UNSET else data.name,
            balance_min=KEEP if data.min_balance is msgspec.UNSET else data.min_balance,
            balance_max=KEEP if data.max_balance is msgspec.UNSET else data.max_balance,
            closed=KEEP if data.closed is msgspec.UNSET else data.closed,
        )
        return AccountOut.of(
            await ledger.update_account(
                community.id, account_id, change, key_of(principal_of(request), idempotency_key)
            )
        )

    @get(
        "/{account_id:uuid}/balance",
        summary="Posted, pending and available balance, now or as of a date",
        responses=problems(*COMMUNITY, codes=["account_not_found"]),
    )
    async def read_balance(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        account_id: FromPath[uuid.UUID],
        as_of: AsOf = None,
    ) -> BalanceOut:
        account, balance = await ledger.account_balance(community.id, account_id, as_of)
        check_account(principal_of(request), account)
        return BalanceOut.of(balance)

    @get(
        "/{account_id:uuid}/postings",
        summary="The account's statement with running balance",
        responses=problems(*COMMUNITY, codes=["account_not_found"]),
    )
    async def read_statement(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        account_id: FromPath[uuid.UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[StatementLineOut]:
        await _visible_account(ledger, principal_of(request), community, account_id)
        position = decode_cursor(cursor, _StatementPosition)
        after = (
            None
            if position is None
            else StatementCursor(position.effective_date, position.entry_id, position.line)
        )
        statement = await ledger.statement(community.id, account_id, after=after, limit=limit)
        next_cursor = statement.next_cursor
        return Page(
            [StatementLineOut.of(line) for line in statement.lines],
            None
            if next_cursor is None
            else encode_cursor(
                _StatementPosition(
                    next_cursor.effective_date, next_cursor.entry_id, next_cursor.line
                )
            ),
        )


COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [AccountsController]
"""Handlers under ``/communities/{slug}``."""
