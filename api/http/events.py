"""The pull feed of a community's events."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import QueryParameter

from api.http.common.auth import principal_of, requires
from api.http.common.openapi import COMMUNITY, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, encode_cursor
from api.http.event_schemas import EventOut, EventPage
from ledger.access.principals import Scope
from ledger.books.service import Ledger
from ledger.events.feed import EventFeed, Viewer
from ledger.kernel.model import Community

Types = Annotated[
    str | None,
    QueryParameter(
        max_length=1000,
        # Two or three parts: ``entry.posted``, ``federation.transfer.committed``.
        pattern=r"^[a-z_]+(\.[a-z_]+){1,2}(,[a-z_]+(\.[a-z_]+){1,2})*$",
        description="comma-separated event types (e.g. `entry.posted,exchange.confirmed`)",
    ),
]


@get(
    "/events",
    summary="The event feed, in commit order (a member token: events about itself)",
    description=(
        "Every event of the community after `after` (or `cursor`: the same position), oldest "
        "first, without gaps or repeats even while writers commit concurrently. Poll with "
        "`after` = the `position` of the last event seen. A member token sees only events "
        "about its member and its accounts; a page may then hold fewer than `limit` events "
        "and still have a `next_cursor`."
    ),
    responses=problems(*COMMUNITY, codes=["invalid_input"]),
    guards=[requires(Scope.READ, members=True)],
    tags=["events"],
)
async def list_events(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    feed: NamedDependency[EventFeed],
    *,
    after: Cursor = None,
    cursor: Cursor = None,
    types: Types = None,
    limit: PageLimit = 50,
) -> EventPage:
    if after is not None and cursor is not None and after != cursor:
        raise ClientException("give the position as after or cursor, not both")
    position = decode_cursor(after or cursor, tuple[int, int]) or (0, 0)
    principal = principal_of(request)
    viewer = None
    if principal.is_member:
        assert principal.member_id is not None
        accounts = await ledger.list_accounts(community.id, member_id=principal.member_id)
        viewer = Viewer(principal.member_id, frozenset(account.id for account in accounts))
    page = await feed.page(
        community.id,
        after=position,
        types=None if types is None else types.split(","),
        limit=limit,
        viewer=viewer,
    )
    return EventPage(
        [EventOut.of(event, community.slug) for event in page.events],
        None if page.next_position is None else encode_cursor(list(page.next_position)),
    )


COMMUNITY_HANDLERS = [list_events]
"""Handlers under ``/communities/{slug}``."""
