"""Links: propose, accept, adopt versions, propose new terms, suspend, resume, close, read,
list, and each link's reconciliation."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.http.common.auth import principal_of
from api.http.common.controller import Controller
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.federation.schemas import LinkOut, LinkPropose, ReconciliationOut, VersionPropose
from api.http.governance.guards import (
    READ,
    WRITE_MEMBERS,
    steward_acting,
    steward_member,
    treasurer_or_steward,
)
from api.http.schemas import Page
from ledger.federation.model import LinkStatus
from ledger.federation.remote_reconcile import RemoteReconciliation
from ledger.federation.service import Federation
from ledger.kernel.model import Community

_LINK = ("link_not_found", "not_party_to_link")
_STATUS = (*_LINK, "link_status_conflict", *IDEMPOTENT)


class LinksController(Controller):
    path = "/federation/links"
    tags = ("federation",)
    guards = (READ,)

    @post(
        summary="Propose a link to another community of this install, with its first terms",
        description=(
            "Both communities get their own row of the link (one id) and a clearing account "
            "per commodity (`link:<partner>:<COMMODITY>`). The link is active once each side's "
            "stewards adopted version 1 by the community's consent rule."
        ),
        responses=problems(
            *COMMUNITY,
            403,
            413,
            codes=[
                "invalid_input",
                "partner_not_found",
                "commodity_not_found",
                "link_exists",
                *IDEMPOTENT,
            ],
        ),
        guards=[treasurer_or_steward],
        status_code=HTTP_201_CREATED,
    )
    async def propose_link(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        data: JSONBody[LinkPropose],
        idempotency_key: IdempotencyHeader = None,
    ) -> LinkOut:
        link = await federation.links.propose(
            community.id,
            data.partner,
            [t.to_domain() for t in data.terms],
            data.hold_window_s,
            key_of(principal_of(request), idempotency_key),
        )
        return LinkOut.of(link)

    @get(summary="This community's links, each with every term of every version",
         responses=problems(*COMMUNITY))  # fmt: skip
    async def list_links(
        self,
        *,
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[LinkOut]:
        found = await federation.links.list_links(
            community.id, after=decode_cursor(cursor, uuid.UUID), limit=limit + 1
        )
        return page_of(found, limit, LinkOut.of, lambda link: link.id)

    @get(
        "/{link_id:uuid}",
        summary="Read a link: its partner, status and every version of its terms",
        responses=problems(*COMMUNITY, codes=["link_not_found"]),
    )
    async def read_link(
        self,
        *,
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        link_id: FromPath[uuid.UUID],
    ) -> LinkOut:
        return LinkOut.of(await federation.links.get(community.id, link_id))

    @get(
        "/{link_id:uuid}/reconciliation",
        summary="Compare the link's two journals and this side's clearing accounts",
        description=(
            "On one install both journals are read; with a partner on another node, by signed "
            "checkpoints exchanged now and the movements after the latest agreed one."
        ),
        responses=problems(
            *COMMUNITY, codes=["link_not_found", "partner_not_found", "partner_node_unreachable"]
        ),
    )
    async def reconcile_link(
        self,
        *,
        community: NamedDependency[Community],
        peer_reconciliation: NamedDependency[RemoteReconciliation],
        link_id: FromPath[uuid.UUID],
    ) -> ReconciliationOut:
        # The one way to reconcile, as `commons-ledger federation reconcile` does: on this
        # install both journals; with a partner node, signed checkpoints and the movements
        # after the latest agreed one.
        return ReconciliationOut.of(await peer_reconciliation.reconcile(community.id, link_id))

    @post(
        "/{link_id:uuid}/accept",
        summary="A current steward of the invited community accepts a proposed link",
        description="The steward's consent to version 1 on the side that did not propose it.",
        responses=problems(*COMMUNITY, 403, codes=[*_STATUS, "not_a_steward"]),
        guards=[WRITE_MEMBERS, steward_member],
        status_code=HTTP_200_OK,
    )
    async def accept_link(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        link_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> LinkOut:
        link = await federation.links.accept(
            community.id,
            link_id,
            steward_acting(request),
            key_of(principal_of(request), idempotency_key),
        )
        return LinkOut.of(link)

    @post(
        "/{link_id:uuid}/versions",
        summary="Propose new terms: in force once both sides adopt; until then the stricter",
        responses=problems(
            *COMMUNITY, 403, 413, codes=[*_STATUS, "invalid_input", "commodity_not_found"]
        ),
        guards=[treasurer_or_steward],
        status_code=HTTP_201_CREATED,
    )
    async def propose_version(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        link_id: FromPath[uuid.UUID],
        data: JSONBody[VersionPropose],
        idempotency_key: IdempotencyHeader = None,
    ) -> LinkOut:
        link = await federation.links.propose_version(
            community.id,
            link_id,
            [t.to_domain() for t in data.terms],
            data.hold_window_s,
            key_of(principal_of(request), idempotency_key),
        )
        return LinkOut.of(link)

    @post(
        "/{link_id:uuid}/versions/{version:int}/adopt",
        summary="A current steward consents to a version; the consent meeting the rule adopts it",
        responses=problems(
            *COMMUNITY, 403, codes=[*_STATUS, "link_version_not_found", "not_a_steward"]
        ),
        guards=[WRITE_MEMBERS, steward_member],
        status_code=HTTP_200_OK,
    )
    async def adopt_version(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        link_id: FromPath[uuid.UUID],
        version: FromPath[int],
        idempotency_key: IdempotencyHeader = None,
    ) -> LinkOut:
        link = await federation.links.consent(
            community.id,
            link_id,
            version,
            steward_acting(request),
            key_of(principal_of(request), idempotency_key),
        )
        return LinkOut.of(link)

    async def _status(
        self,
        request: Request[Any, Any, Any],
        *,
        community: Community,
        federation: Federation,
        link_id: uuid.UUID,
        status: LinkStatus,
        header: str | None,
    ) -> LinkOut:
        key = key_of(principal_of(request), header)
        return LinkOut.of(await federation.links.set_status(community.id, link_id, status, key))

    @post(
        "/{link_id:uuid}/suspend",
        summary="Suspend the link on both sides: nothing crosses until the suspender resumes",
        responses=problems(*COMMUNITY, 403, codes=_STATUS),
        guards=[treasurer_or_steward],
        status_code=HTTP_200_OK,
    )
    async def suspend_link(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        link_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> LinkOut:
        return await self._status(
            request,
            community=community,
            federation=federation,
            link_id=link_id,
            status=LinkStatus.SUSPENDED,
            header=idempotency_key,
        )

    @post(
        "/{link_id:uuid}/resume",
        summary="Resume a link this community suspended",
        responses=problems(*COMMUNITY, 403, codes=_STATUS),
        guards=[treasurer_or_steward],
        status_code=HTTP_200_OK,
    )
    async def resume_link(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        link_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> LinkOut:
        return await self._status(
            request,
            community=community,
            federation=federation,
            link_id=link_id,
            status=LinkStatus.ACTIVE,
            header=idempotency_key,
        )

    @post(
        "/{link_id:uuid}/close",
        summary="Close the link on both sides, for good",
        responses=problems(*COMMUNITY, 403, codes=_STATUS),
        guards=[treasurer_or_steward],
        status_code=HTTP_200_OK,
    )
    async def close_link(
        self,
        *,
        request: Request[Any, Any, Any],
        community: NamedDependency[Community],
        federation: NamedDependency[Federation],
        link_id: FromPath[uuid.UUID],
        idempotency_key: IdempotencyHeader = None,
    ) -> LinkOut:
        return await self._status(
            request,
            community=community,
            federation=federation,
            link_id=link_id,
            status=LinkStatus.CLOSED,
            header=idempotency_key,
        )
