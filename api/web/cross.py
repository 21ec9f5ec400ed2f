"""The member page's part of federation: exchanges with members of linked communities, named
with their community ("Ann Weaver, Riverside"), answered as local ones are, recorded by choosing
a member from the directory, and the member's choice to be listed in it.

A member here may do what their member token may do in the JSON API
(``api.http.federation.exchanges``): record for themselves, answer only what waits for them
(any other exchange answers 404), set only their own listing.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Any, Final

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from api.web.forms import HelpForm, parse_help
from api.web.session import Viewer
from ledger.books.service import Ledger
from ledger.federation.exchange_model import (
    CrossExchange,
    CrossRecord,
    ExchangeRole,
    Listing,
)
from ledger.federation.model import LinkStatus
from ledger.federation.service import Federation
from ledger.kernel import errors
from ledger.kernel.clock import utc_now

RECENT_COUNT: Final = 20


@dataclass(frozen=True, slots=True)
class CrossLine:
    exchange: CrossExchange
    given: bool
    """True when the viewer gave the help."""
    other_name: str
    """The other member with their community: "Ann Weaver, Riverside"."""


@dataclass(frozen=True, slots=True)
class CrossView:
    recent: list[CrossLine]
    to_answer: list[CrossLine]
    directory: list[Listing]
    listed: bool
    linked: bool
    """Whether the community has an active link: without one the page leaves the section out."""


async def _name(ledger: Ledger, federation: Federation, x: CrossExchange) -> str:
    link = await federation.links.get(x.community_id, x.link_id)
    name = x.partner_name or "?"  # a member on another node: the name their node told
    if link.partner.community_id is not None:
        with contextlib.suppress(errors.MemberNotFound):
            name = (await ledger.get_member(link.partner.community_id, x.partner_member_id)).name
    return f"{name}, {link.partner.name}"


async def view(ledger: Ledger, federation: Federation, viewer: Viewer) -> CrossView:
    """The viewer's recent cross exchanges (newest first), those waiting for their answer, the
    directory they may record for, and whether they are listed themselves."""
    cid, me = viewer.community.id, viewer.member.id
    mine = await federation.exchanges.list_exchanges(cid, member_id=me, limit=500)
    lines = [
        CrossLine(x, x.role is ExchangeRole.PROVIDER, await _name(ledger, federation, x))
        for x in mine
    ]
    to_answer = [line for line in lines if line.exchange.awaits(me)]
    recent = [line for line in lines if line not in to_answer]
    recent.sort(key=lambda line: line.exchange.created_at, reverse=True)
    links = await federation.links.list_links(cid, after=None, limit=500)
    return CrossView(
        recent[:RECENT_COUNT],
        to_answer,
        list(await federation.exchanges.directory(cid)),
        await federation.exchanges.is_listed(cid, me),
        any(link.status is LinkStatus.ACTIVE for link in links),
    )


async def record_cross(
    request: Request[Any, Any, Any], federation: Federation, viewer: Viewer
) -> HelpForm | None:
    """Records the help the viewer gave a listed member of a linked community; the form again
    with its messages when something is wrong, None once recorded."""
    form = HelpForm.of({k: str(v) for k, v in (await request.form()).items()})
    listings = {x.member_id: x for x in await federation.exchanges.directory(viewer.community.id)}
    parsed = parse_help(form, {k: x.name for k, x in listings.items()}, utc_now().date())
    if isinstance(parsed, HelpForm):
        return parsed
    listing = listings[parsed.receiver_id]
    record = CrossRecord(
        listing.link_id,
        viewer.member.id,
        ExchangeRole.PROVIDER,
        listing.member_id,
        parsed.minutes,
        parsed.description,
    )
    await federation.exchanges.record(viewer.community.id, record)
    return None


async def _complete(
    federation: Federation, viewer: Viewer, exchange_id: uuid.UUID, *, confirm: bool
) -> Redirect:
    # Only the member it waits for sees it here; anyone else, its recorder too, gets 404 as
    # for local exchanges (the use case refuses them again in its transaction).
    found = await federation.exchanges.get(viewer.community.id, exchange_id)
    if found.recorded_here or found.member_id != viewer.member.id:
        raise NotFoundException("no such exchange")
    done = await federation.exchanges.complete(
        viewer.community.id, exchange_id, viewer.member.id, confirm=confirm
    )
    # Between installs a confirmation is ``confirming`` until the hours have crossed.
    return Redirect(f"/exchanges?done={done.status}", status_code=303)


@post("/exchanges/cross/{exchange_id:uuid}/confirm", include_in_schema=False, status_code=303)
async def confirm_cross(
    viewer: NamedDependency[Viewer],
    federation: NamedDependency[Federation],
    exchange_id: FromPath[uuid.UUID],
) -> Redirect:
    return await _complete(federation, viewer, exchange_id, confirm=True)


@post("/exchanges/cross/{exchange_id:uuid}/decline", include_in_schema=False, status_code=303)
async def decline_cross(
    viewer: NamedDependency[Viewer],
    federation: NamedDependency[Federation],
    exchange_id: FromPath[uuid.UUID],
) -> Redirect:
    return await _complete(federation, viewer, exchange_id, confirm=False)


@post("/exchanges/listing", include_in_schema=False, status_code=303)
async def choose_listing(
    request: Request[Any, Any, Any],
    viewer: NamedDependency[Viewer],
    federation: NamedDependency[Federation],
) -> Response[Any]:
    listed = str((await request.form()).get("listed", "")) == "yes"
    await federation.exchanges.set_listed(viewer.community.id, viewer.member.id, listed)
    return Redirect(f"/exchanges?done={'listed' if listed else 'unlisted'}", status_code=303)


CROSS_HANDLERS: Final = [confirm_cross, decline_cross, choose_listing]
