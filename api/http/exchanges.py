"""Time-bank exchanges: an hour of help recorded as a pending entry until it is confirmed.

Who may do what:

- record: a ``write`` API key for any two members; a member token only for an exchange it takes
  part in, as provider or receiver (else 403);
- confirm or decline: the member token of the counterparty of whoever recorded it (the receiver
  when a key recorded it), or a steward (an API key with the ``treasurer`` scope, or the member
  token of a current steward or treasurer who takes no part in it); anyone else who takes part
  is refused with 403 — a member never confirms an exchange they recorded;
- read and list: ``read`` API keys see every exchange; a member token sees only those it takes
  part in, and any other answers 404 as if it did not exist.

Every write takes an optional ``Idempotency-Key`` header (see ``api.http.common.idempotency``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from api.http.common.auth import principal_of, requires
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, COMPLETION, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.schemas import ExchangeCreate, ExchangeOut, Page
from ledger.access.principals import Principal, Scope
from ledger.books.service import Ledger
from ledger.kernel.model import Community
from ledger.timebank.exchanges import Exchange, Exchanges, ExchangeStatus, not_found

StatusFilter = Annotated[
    ExchangeStatus | None,
    QueryParameter(description="only exchanges in this status"),
]


def _stewards_or_members(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """A guard: an API key completes exchanges only with the ``treasurer`` scope (a steward's);
    a member token passes, and the handler then lets only the receiver through."""
    principal = principal_of(connection)
    if not principal.is_member and not principal.allows(Scope.TREASURER):
        raise PermissionDeniedException(
            "confirming or declining an exchange needs the receiver's member token or the "
            "treasurer scope"
        )


def _check_visible(principal: Principal, exchange: Exchange) -> None:
    if (
        principal.is_member
        and not principal.is_steward
        and not exchange.involves(principal.member_id)
    ):
        raise not_found(exchange.id)


async def _complete(
    principal: Principal,
    exchanges: Exchanges,
    community: Community,
    exchange_id: uuid.UUID,
    header: str | None,
    *,
    confirm: bool,
) -> ExchangeOut:
    exchange = await exchanges.get(community.id, exchange_id)
    _check_visible(principal, exchange)
    steward_aside = principal.is_steward and not exchange.involves(principal.member_id)
    if (
        principal.is_member
        and not steward_aside
        and not exchange.answerable_by(principal.member_id)
    ):
        action = "confirm" if confirm else "decline"
        raise PermissionDeniedException(
            f"only the other side of whoever recorded an exchange may {action} it"
        )
    key = key_of(principal, header)
    if confirm:
        return ExchangeOut.of(await exchanges.confirm(community.id, exchange_id, key))
    return ExchangeOut.of(await exchanges.decline(community.id, exchange_id, key))


class ExchangesController(Controller):
    path = "/exchanges"
    tags = ("exchanges",)
    guards = (requires(Scope.READ, members=True),)

    @post(
        summary="Record a service one member gave another, pending until the receiver confirms",
        description=(
            "Writes a pending journal entry of kind `exchange` that debits the receiver's "
            "HOURS account and credits the provider's by `minutes`; it reserves against both "
            "members' limits (`limit_exceeded`, 422). A member token may record only exchanges "
            "it takes part in."
        ),
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "member_not_found",
                "account_closed",
                "counter_overflow",
                "limit_exceeded",
                *IDEMPOTENT,
            ],
        ),
        guards=[requires(Scope.WRITE, members=True)],
        status_code=HTTP_201_CREATED,
    )
    async def create_exchange(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        data: JSONBody[ExchangeCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> ExchangeOut:
        principal = principal_of(request)
        if principal.is_member and principal.member_id not in (
            data.provider_member_id,
            data.receiver_member_id,
        ):
            raise PermissionDeniedException(
                "a member token may record only exchanges its member takes part in, as provider or "
                "receiver"
            )
        exchange = await Exchanges(ledger).record(
            community.id,
            provider_id=data.provider_member_id,
            receiver_id=data.receiver_member_id,
            minutes=data.minutes,
            description=data.description,
            category=data.category,
            recorded_by=principal.member_id,
            effective_date=data.effective_date,
            idempotency_key=key_of(principal, idempotency_key),
        )
        return ExchangeOut.of(exchange)

    @get(
        summary="List exchanges in recorded order (a member token: those it takes part in)",
        responses=problems(*COMMUNITY),
    )
    async def list_exchanges(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        cursor: Cursor = None,
        limit: PageLimit = 50,
        status: StatusFilter = None,
    ) -> Page[ExchangeOut]:
        principal = principal_of(request)
        found = await Exchanges(ledger).list_exchanges(
            community.id,
            member_id=principal.member_id if principal.is_member else None,
            status=None if status is None else ExchangeStatus(status),
            after=decode_cursor(cursor, uuid.UUID),
            limit=limit + 1,
        )
        return page_of(found, limit, ExchangeOut.of, lambda exchange: exchange.id)

    @get(
        "/{exchange_id:uuid}",
        summary="Read an exchange",
        responses=problems(*COMMUNITY, codes=["entry_not_found"]),
    )
    async def read_exchange(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        exchange_id: FromPath[uuid.UUID],
    ) -> ExchangeOut:
        exchange = await Exchanges(ledger).get(community.id, exchange_id)
        _check_visible(principal_of(request), exchange)
        return ExchangeOut.of(exchange)

    @post(
        "/{exchange_id:uuid}/confirm",
        summary="Confirm a pending exchange: the hours move (the receiver or a steward)",
        responses=problems(*COMMUNITY, 403, codes=[*COMPLETION, *IDEMPOTENT]),
        guards=[requires(Scope.WRITE, members=True), _stewards_or_members],
        status_code=HTTP_200_OK,
    )
    async def confirm_exchange(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        exchange_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> ExchangeOut:
        return await _complete(
            principal_of(request),
            Exchanges(ledger),
            community,
            exchange_id,
            idempotency_key,
            confirm=True,
        )

    @post(
        "/{exchange_id:uuid}/decline",
        summary="Decline a pending exchange, releasing its reservation (the receiver or a steward)",
        responses=problems(*COMMUNITY, 403, codes=[*COMPLETION, *IDEMPOTENT]),
        guards=[requires(Scope.WRITE, members=True), _stewards_or_members],
        status_code=HTTP_200_OK,
    )
    async def decline_exchange(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        ledger: NamedDependency[Ledger],
        exchange_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> ExchangeOut:
        return await _complete(
            principal_of(request),
            Exchanges(ledger),
            community,
            exchange_id,
            idempotency_key,
            confirm=False,
        )


COMMUNITY_HANDLERS: list[ControllerRouterHandler] = [ExchangesController]
"""Handlers under ``/communities/{slug}``."""
