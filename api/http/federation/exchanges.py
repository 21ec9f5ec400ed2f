"""Cross time-bank exchanges with members of linked communities, and the directory.

Who may do what:

- record: a ``write`` API key for any member of this community; a member token only for its own
  member (else 403);
- confirm or decline: only the counterparty of whoever recorded, in their own community — its
  member token, or an API key of that community with the ``treasurer`` scope (a steward's act,
  as for local exchanges). The recorder's side is refused (``recorder_cannot_confirm``, 403);
  another member's token answers 404;
- read and list: ``read`` API keys see every cross exchange of the community; a member token
  only its own member's, any other answers 404 as if it did not exist;
- the directory: ``read`` keys and member tokens of this community read the listed members of
  the communities it has an active link with; a member token sets its own member's choice to be
  listed (nobody is listed until they choose to be).

Another community's keys see nothing: every row is read in the community of the path.

With a partner community on another node the same routes act on this side's row; the messages
to the partner node are ``ledger.federation.remote_exchanges``' (confirming answers
``confirming`` until the hours have crossed).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.http.common.auth import principal_of, requires
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.federation.exchange_schemas import (
    CrossExchangeCreate,
    CrossExchangeOut,
    DirectoryChoice,
    DirectoryChoiceOut,
    ListingOut,
)
from api.http.federation.transfers import REFUSALS
from api.http.schemas import Page
from ledger.access.principals import Principal, Scope
from ledger.federation import errors
from ledger.federation.exchange_model import CrossStatus
from ledger.federation.service import Federation
from ledger.kernel.model import Community

StatusFilter = Annotated[
    CrossStatus | None,
    QueryParameter(description="only cross exchanges in this status"),
]
_COMPLETE = ("exchange_not_found", "recorder_cannot_confirm", "entry_not_pending", *REFUSALS)


def _own(principal: Principal) -> uuid.UUID | None:
    return principal.member_id if principal.is_member else None


def _members_or_treasurer(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    principal = principal_of(connection)
    if not principal.is_member and not principal.allows(Scope.TREASURER):
        raise PermissionDeniedException(
            "confirming or declining a cross exchange needs the counterparty's member token or "
            "the treasurer scope"
        )


def _member_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not principal_of(connection).is_member:
        raise PermissionDeniedException("only a member chooses to be listed, with its own token")


class CrossExchangesController(Controller):
    path = "/federation/exchanges"
    tags = ("federation",)
    guards = (requires(Scope.READ, members=True),)

    @post(
        summary="Record an exchange with a member of a linked community",
        description=(
            "Pending until the other member confirms it in their own community; nothing is "
            "reserved meanwhile. Confirmed, the hours cross the link as a cross transfer from "
            "the receiver to the provider, within both sides' limits. With a partner on "
            "another node the record travels as a signed message (it waits while that node is "
            "down), the member must be listed in its directory, and a refusal there makes the "
            "exchange `refused` with its `reason` (docs/federation.md)."
        ),
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "member_not_found",
                "link_not_found",
                "partner_not_found",
                "link_not_active",
                "commodity_not_carried",
                *IDEMPOTENT,
            ],
        ),
        guards=[requires(Scope.WRITE, members=True)],
        status_code=HTTP_201_CREATED,
    )
    async def record_cross_exchange(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        data: JSONBody[CrossExchangeCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> CrossExchangeOut:
        principal = principal_of(request)
        own = _own(principal)
        if own is not None and own != data.member_id:
            raise PermissionDeniedException("a member token records only for its own member")
        recorded = await federation.exchanges.record(
            community.id, data.to_domain(), key_of(principal, idempotency_key)
        )
        return CrossExchangeOut.of(recorded)

    @get(
        summary="Cross exchanges of this community (a member token: its own), oldest first",
        responses=problems(*COMMUNITY),
    )
    async def list_cross_exchanges(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        status: StatusFilter = None,
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[CrossExchangeOut]:
        found = await federation.exchanges.list_exchanges(
            community.id,
            member_id=_own(principal_of(request)),
            status=status,
            after=decode_cursor(cursor, uuid.UUID),
            limit=limit + 1,
        )
        return page_of(found, limit, CrossExchangeOut.of, lambda x: x.id)

    @get(
        "/{exchange_id:uuid}",
        summary="Read this community's side of a cross exchange",
        responses=problems(*COMMUNITY, codes=["exchange_not_found"]),
    )
    async def read_cross_exchange(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        exchange_id: FromPath[uuid.UUID],
    ) -> CrossExchangeOut:
        found = await federation.exchanges.get(community.id, exchange_id)
        own = _own(principal_of(request))
        if own is not None and own != found.member_id:
            raise errors.ExchangeNotFound(f"exchange {exchange_id} does not exist")
        return CrossExchangeOut.of(found)

    async def _complete(
        self,
        request: Request[Any, Any, Any],
        community: Community,
        federation: Federation,
        exchange_id: uuid.UUID,
        header: str | None,
        *,
        confirm: bool,
    ) -> CrossExchangeOut:
        principal = principal_of(request)
        done = await federation.exchanges.complete(
            community.id,
            exchange_id,
            _own(principal),
            confirm=confirm,
            key=key_of(principal, header),
        )
        return CrossExchangeOut.of(done)

    @post(
        "/{exchange_id:uuid}/confirm",
        summary="Confirm a cross exchange: the hours cross the link (the recorder's counterparty)",
        responses=problems(*COMMUNITY, 403, codes=[*_COMPLETE, *IDEMPOTENT]),
        guards=[requires(Scope.WRITE, members=True), _members_or_treasurer],
        status_code=HTTP_200_OK,
    )
    async def confirm_cross_exchange(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        exchange_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> CrossExchangeOut:
        return await self._complete(
            request, community, federation, exchange_id, idempotency_key, confirm=True
        )

    @post(
        "/{exchange_id:uuid}/decline",
        summary="Decline a cross exchange: nothing moves (the recorder's counterparty)",
        responses=problems(*COMMUNITY, 403, codes=[*_COMPLETE, *IDEMPOTENT]),
        guards=[requires(Scope.WRITE, members=True), _members_or_treasurer],
        status_code=HTTP_200_OK,
    )
    async def decline_cross_exchange(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        exchange_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> CrossExchangeOut:
        return await self._complete(
            request, community, federation, exchange_id, idempotency_key, confirm=False
        )


class DirectoryController(Controller):
    path = "/federation/directory"
    tags = ("federation",)
    guards = (requires(Scope.READ, members=True),)

    @get(
        summary="Members of linked communities who chose to be listed",
        responses=problems(*COMMUNITY),
    )
    async def read_directory(
        self, *, community: NamedDependency[Community], federation: NamedDependency[Federation]
    ) -> list[ListingOut]:
        return [ListingOut.of(x) for x in await federation.exchanges.directory(community.id)]

    @get(
        "/me",
        summary="Whether this member token's member is listed for linked communities",
        responses=problems(*COMMUNITY, 403),
        guards=[_member_only],
    )
    async def read_listing_choice(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
    ) -> DirectoryChoiceOut:
        member_id = principal_of(request).member_id
        assert member_id is not None
        listed = await federation.exchanges.is_listed(community.id, member_id)
        return DirectoryChoiceOut(member_id, listed)

    @put(
        "/me",
        summary="Choose to be listed (or not) for members of linked communities",
        responses=problems(*COMMUNITY, 403, 413, codes=["member_not_found"]),
        guards=[requires(Scope.WRITE, members=True), _member_only],
        status_code=HTTP_200_OK,
    )
    async def choose_listing(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        data: JSONBody[DirectoryChoice],
    ) -> DirectoryChoiceOut:
        member_id = principal_of(request).member_id
        assert member_id is not None
        await federation.exchanges.set_listed(community.id, member_id, data.listed)
        return DirectoryChoiceOut(member_id, data.listed)
