"""The sustainability report's federation section on both sides of a link: the balance with the
partner per commodity, the use of each limit (the stricter one while newer terms await
adoption), the period's cross transfers and their categories; names, not codes, in HTML and PDF."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.kernel.model import HOURS
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from reports.period import Period
from reports.render.html import render_html
from reports.render.pdf import render_pdf
from reports.render.tables import tables
from reports.sustainability import ReportRequest, sustainability_report
from reports.values import LinkCommodity, SustainabilityReport
from tests.ledger.federation_world import Side, World, hours_terms, make_world

DECEMBER = Period.parse("2026-12")


async def report(world: World, side: Side) -> SustainabilityReport:
    request = ReportRequest(side.community, DECEMBER)
    units = SqlUnitOfWorkFactory(world.engine)
    return await sustainability_report(units, connection_of, request, world.clock)


def commodities(made: SustainabilityReport) -> dict[str, LinkCommodity]:
    (link,) = made.federation.links
    return {c.commodity: c for c in link.commodities}


async def test_each_side_sees_its_balance_limits_and_transfers(engine: AsyncEngine) -> None:
    world = await make_world(engine)
    assert (await report(world, world.a)).federation.links == ()
    link = await world.link(we_owe=600, they_owe=300)
    transfers = world.federation.transfers
    await transfers.create(world.a.cid, world.request(link.id, 90))
    await transfers.create(world.a.cid, world.request(link.id, 45))
    back = world.request(
        link.id, 30, payer_member_id=world.b.member.id, payee_member_id=world.a.member.id
    )
    await transfers.create(world.b.cid, back)
    await transfers.create(world.a.cid, world.request(link.id, 1_001, commodity="EUR"))

    ours = await report(world, world.a)
    (seen,) = ours.federation.links
    assert (seen.partner_name, seen.status) == ("Hilltop", "active")
    hours, eur = commodities(ours)[HOURS], commodities(ours)["EUR"]
    assert (hours.owed, hours.limit_we_owe, hours.limit_they_owe) == (105, 600, 300)
    assert (hours.we_owe_used, hours.they_owe_used) == (Decimal("0.175"), Decimal(0))
    assert (hours.sent_count, hours.sent, hours.received_count, hours.received) == (2, 135, 1, 30)
    assert (eur.owed, eur.sent, eur.rate_numerator, eur.rate_denominator) == (1_001, 1_001, 3, 2)
    by_category = {(c.category, c.commodity): c for c in ours.federation.by_category}
    assert by_category[("(no category)", HOURS)].transfers == 3
    assert by_category[("(no category)", HOURS)].amount == 165
    assert by_category[("(no category)", "EUR")].amount == 1_001

    theirs = commodities(await report(world, world.b))
    assert (theirs[HOURS].owed, theirs[HOURS].they_owe_used) == (-105, Decimal("0.175"))
    assert (theirs[HOURS].limit_we_owe, theirs[HOURS].limit_they_owe) == (300, 600)
    assert (theirs["EUR"].owed, theirs["EUR"].received) == (-1_501, 1_501)  # floor(1001 × 3/2)

    # Newer terms with a lower limit hold at once, before both sides adopt them.
    await world.federation.links.propose_version(
        world.a.cid, link.id, [replace(t, limit_we_owe=100) for t in hours_terms()]
    )
    tightened = commodities(await report(world, world.a))[HOURS]
    assert (tightened.limit_we_owe, tightened.we_owe_used) == (100, Decimal("1.05"))


async def test_the_pages_name_the_partner_and_the_commodities(engine: AsyncEngine) -> None:
    world = await make_world(engine)
    link = await world.link()
    await world.federation.transfers.create(world.a.cid, world.request(link.id, 90))
    made = await report(world, world.a)
    page = render_html(made)
    section = page[page.index('<section id="federation">') : page.index('<section id="glossary">')]
    assert "Hilltop" in section and "Euro" in section and "1 h 30 min" in section
    assert world.b.community.slug not in section and "link:" not in section
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(made))).pages)
    for expected in ("Federation", "Hilltop", "We may owe", "Crossing by category"):
        assert expected in text, expected
    (sheet,) = [t for t in tables(made) if t.name == "federation"]
    assert {row[3] for row in sheet.rows} == {HOURS, "EUR"}
