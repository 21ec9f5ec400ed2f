"""Exports of a community that federates: its clearing accounts (one per commodity of a link,
standing for the partner) appear under names the tools accept, Beancount and hledger read the
journal back with every entry balanced, and the sums equal the books — in each community, the
clearing balance with the partner being minus the partner's with it, converted."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.federation.model import Link
from ledger.kernel.model import HOURS
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.scoped import connection_of
from reports.exports.journal import ExportFormat, JournalExports
from reports.queries.journal import DateRange
from tests.ledger.federation_world import World, make_world
from tests.reports.generated import raw_balances
from tests.reports.test_exports_tools import (
    beancount_balances,
    csv_balances,
    hledger,
    hledger_balances,
    names_by_id,
)


async def export(engine: AsyncEngine, community_id: uuid.UUID, fmt: ExportFormat) -> str:
    exports = JournalExports(SqlUnitOfWorkFactory(engine), connection_of)
    return "".join([chunk async for chunk in exports.stream(community_id, fmt, DateRange())])


def clearing_ids(link: Link) -> dict[str, uuid.UUID]:
    return {
        t.commodity: t.clearing_account_id
        for t in link.versions[0].commodities
        if t.clearing_account_id is not None
    }


async def federated(engine: AsyncEngine) -> tuple[World, Link, Link]:
    """Riverside and Hilltop linked; hours and euros crossing both ways."""
    world = await make_world(engine)
    link = await world.link()
    transfers = world.federation.transfers
    a, b = world.a, world.b
    await transfers.create(a.cid, world.request(link.id, 90))
    await transfers.create(a.cid, world.request(link.id, 45))
    back = world.request(link.id, 30, payer_member_id=b.member.id, payee_member_id=a.member.id)
    await transfers.create(b.cid, back)
    await transfers.create(a.cid, world.request(link.id, 1_001, commodity="EUR"))
    return world, link, await world.federation.links.get(b.cid, link.id)


async def test_clearing_accounts_export_balanced_and_read_back_by_the_tools(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    world, ours, theirs = await federated(engine)
    for side, link in ((world.a, ours), (world.b, theirs)):
        want = {
            k: v
            for k, v in raw_balances(await world.ledger.trial_balance(side.cid)).items()
            if v[1] != 0
        }
        clearing = clearing_ids(link)
        assert {clearing[HOURS], clearing["EUR"]} <= set(want)
        beancount = await export(engine, side.cid, ExportFormat.BEANCOUNT)
        assert beancount_balances(beancount) == want  # the loader checks every entry balances
        names = names_by_id(beancount)
        assert {names[n] for n in names if n.startswith("Liabilities:Link:")} == set(
            clearing.values()
        )
        path = tmp_path / f"{side.community.slug}.hledger"
        path.write_text(await export(engine, side.cid, ExportFormat.HLEDGER), encoding="utf-8")
        done = hledger(path, "check", "-s", "ordereddates")
        assert done.returncode == 0, done.stderr
        assert hledger_balances(path, names) == want
        assert csv_balances(await export(engine, side.cid, ExportFormat.CSV)) == want
    # debits − credits: Riverside owes Hilltop 105 minutes (a credit on its clearing account),
    # and Hilltop's account standing for Riverside is the mirror.
    a_hours = raw_balances(await world.ledger.trial_balance(world.a.cid))[clearing_ids(ours)[HOURS]]
    b_hours = raw_balances(await world.ledger.trial_balance(world.b.cid))[
        clearing_ids(theirs)[HOURS]
    ]
    assert a_hours == (HOURS, -(90 + 45 - 30)) and b_hours == (HOURS, 90 + 45 - 30)
