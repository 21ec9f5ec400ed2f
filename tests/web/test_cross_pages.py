"""The member page's exchanges with linked communities, on SQLite and PostgreSQL: recorded by
choosing a listed member, named with their community, answered beside local ones by the member
it waits for only, and the choice to be listed."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.access.credentials import Access
from ledger.federation.exchange_model import CrossStatus
from ledger.store import SqlUnitOfWorkFactory
from tests.ledger.federation_world import make_world
from tests.web.conftest import post_form, sign_in
from tests.web.test_pages import text_of

Client = AsyncTestClient[Litestar]


async def test_help_across_communities_from_record_to_confirmation(
    web: Client, engine: AsyncEngine
) -> None:
    world = await make_world(engine)
    access = Access(SqlUnitOfWorkFactory(engine))
    _, ann = await access.issue_member_token(world.a.cid, world.a.member.id, "t")
    await sign_in(web, ann)
    # Without an active link the page says nothing of other communities.
    assert "Help across communities" not in (await web.get("/exchanges")).text
    link = await world.link()
    _, bob = await access.issue_member_token(world.b.cid, world.b.member.id, "t")
    _, other = await access.issue_member_token(world.b.cid, world.b.steward.id, "t")
    exchanges = world.federation.exchanges

    page = text_of((await web.get("/exchanges")).text)
    assert "Nobody in a linked community is listed yet." in page
    await exchanges.set_listed(world.b.cid, world.b.member.id, True)
    assert "Member of Hilltop, Hilltop" in (await web.get("/exchanges")).text
    # Someone not in the directory cannot be chosen.
    form = {"receiver": str(world.b.steward.id), "hours": "1", "minutes": "30"}
    refused = await post_form(web, "/exchanges/cross", form | {"description": "Gate"})
    assert refused.status_code == 422
    assert "Choose the member you helped from the list." in refused.text
    form["receiver"] = str(world.b.member.id)
    done = await post_form(web, "/exchanges/cross", form | {"description": "Fixed the gate"})
    assert (done.status_code, done.headers["location"]) == (303, "/exchanges?done=recorded")
    (recorded,) = await exchanges.list_exchanges(world.a.cid)
    assert recorded.link_id == link.id and recorded.minutes == 90
    assert f"/exchanges/cross/{recorded.id}/confirm" not in (await web.get("/exchanges")).text
    # The recorder's own confirmation is refused.
    mine = await post_form(web, f"/exchanges/cross/{recorded.id}/confirm", {})
    assert mine.status_code == 404

    await sign_in(web, other)
    theirs = await post_form(web, f"/exchanges/cross/{recorded.id}/confirm", {})
    assert theirs.status_code == 404

    await sign_in(web, bob)
    page = text_of((await web.get("/exchanges")).text)
    assert "Member of Riverside, Riverside helped you for 1 h 30 min" in page
    confirmed = await post_form(web, f"/exchanges/cross/{recorded.id}/confirm", {})
    assert (confirmed.status_code, confirmed.headers["location"]) == (
        303,
        "/exchanges?done=confirmed",
    )
    assert (await exchanges.get(world.a.cid, recorded.id)).status is CrossStatus.CONFIRMED
    assert await world.balance(world.a, world.a.member.hours_account_id) == 90
    assert await world.balance(world.b, world.b.member.hours_account_id) == -90
    page = text_of((await web.get("/exchanges")).text)
    assert "confirmed" in page and "Nothing is waiting for you." in page
    # Bob chooses not to be listed any more.
    unlisted = await post_form(web, "/exchanges/listing", {"listed": "no"})
    assert unlisted.headers["location"] == "/exchanges?done=unlisted"
    assert not await exchanges.is_listed(world.b.cid, world.b.member.id)
