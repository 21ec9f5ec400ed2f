"""Cross transfers: create (prepare, decide and settle in one transaction on this install),
read and list.

Who may do what: a ``write`` API key pays from any member of the community; a member token only
from its own member (else 403). ``read`` keys see every transfer of the community; a member
token sees only its member's, and any other answers 404 as if it did not exist.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.http.common.auth import principal_of, requires
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.federation.schemas import CrossTransferCreate, CrossTransferOut
from api.http.schemas import Page
from ledger.access.principals import Principal, Scope
from ledger.federation import errors
from ledger.federation.model import Transfer
from ledger.federation.remote import RemoteTransfers
from ledger.federation.service import Federation
from ledger.kernel.model import Community

REFUSALS = (
    "invalid_amount",
    "invalid_input",
    "link_not_found",
    "not_party_to_link",
    "partner_not_found",
    "link_not_active",
    "commodity_not_carried",
    "amount_converts_to_zero",
    "below_minimum_received",
    "member_not_found",
    "account_not_found",
    "link_limit_exceeded",
    "limit_exceeded",
    "account_closed",
    "counter_overflow",
    "quote_expired",
    "transfer_conflict",
)
"""What a cross transfer can be refused with; nothing is written then."""


LinkFilter = Annotated[
    uuid.UUID | None, QueryParameter(description="only transfers over this link")
]


def _own_member(principal: Principal) -> uuid.UUID | None:
    """The member a member token may see the transfers of; None for an API key (all)."""
    return principal.member_id if principal.is_member else None


def _check_visible(principal: Principal, transfer: Transfer) -> None:
    member_id = _own_member(principal)
    if member_id is not None and transfer.member_id != member_id:
        raise errors.TransferNotFound(f"transfer {transfer.id} does not exist")


class TransfersController(Controller):
    path = "/federation/transfers"
    tags = ("federation",)
    guards = (requires(Scope.READ, members=True),)

    @post(
        summary="Pay a member of a linked community, converted at the link's rate",
        description=(
            "Reserves on the payer and on the link (a pending entry to the clearing account "
            "that stands for the partner), has the partner's side check its limits and post "
            "to the payee, then posts the reservation — in one transaction: the transfer is "
            "on both books or on neither. The amount received is `floor(amount × n / d)`. "
            "With a partner on another node the answer is `prepared` (the reservation): the "
            "partner's node decides through signed peer messages, and the transfer becomes "
            "`committed` or `rejected` when its answer arrives (docs/federation.md)."
        ),
        responses=problems(*COMMUNITY, 403, 413, codes=[*REFUSALS, *IDEMPOTENT]),
        guards=[requires(Scope.WRITE, members=True)],
        status_code=HTTP_201_CREATED,
    )
    async def create_cross_transfer(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        remote_transfers: NamedDependency[RemoteTransfers],
        data: JSONBody[CrossTransferCreate],
        idempotency_key: IdempotencyHeader = None,
    ) -> CrossTransferOut:
        principal = principal_of(request)
        own = _own_member(principal)
        if own is not None and own != data.payer_member_id:
            raise PermissionDeniedException("a member token pays only from its own member")
        # A partner (or the destination beyond a hub here) on another node: prepare here, the
        # rest by signed peer messages.
        create = federation.transfers.create
        if await remote_transfers.is_remote(community.id, data.link_id, data.destination):
            create = remote_transfers.create
        transfer = await create(community.id, data.to_domain(), key_of(principal, idempotency_key))
        return CrossTransferOut.of(transfer)

    @get(
        summary="Cross transfers of this community (a member token: its own), oldest first",
        responses=problems(*COMMUNITY),
    )
    async def list_cross_transfers(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        link_id: LinkFilter = None,
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[CrossTransferOut]:
        found = await federation.transfers.list_transfers(
            community.id,
            after=decode_cursor(cursor, uuid.UUID),
            limit=limit + 1,
            member_id=_own_member(principal_of(request)),
            link_id=link_id,
        )
        return page_of(found, limit, CrossTransferOut.of, lambda t: t.id)

    @get(
        "/{transfer_id:uuid}",
        summary="Read this community's side of a cross transfer, with its quote",
        responses=problems(*COMMUNITY, codes=["transfer_not_found"]),
    )
    async def read_cross_transfer(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        transfer_id: FromPath[uuid.UUID],
    ) -> CrossTransferOut:
        transfer = await federation.transfers.get(community.id, transfer_id)
        _check_visible(principal_of(request), transfer)
        return CrossTransferOut.of(transfer)
