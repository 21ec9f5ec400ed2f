"""Federation on one install: links adopted by each side's governance, cross transfers posted
on both books at once or not at all, every refusal leaving nothing written, and the link's two
journals reconciled (docs/federation.md names these tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.events.feed import EventFeed
from ledger.events.monitors import Monitors
from ledger.federation import protocol, sides
from ledger.federation.model import (
    SKEW_MARGIN,
    Link,
    LinkStatus,
    Outcome,
    Rate,
    TransferRole,
    TransferState,
)
from ledger.federation.terms import in_force
from ledger.kernel import errors
from ledger.kernel.clock import utc_now
from ledger.kernel.model import HOURS, EntryStatus, IdempotencyKey, new_id
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.events import SqlEventStore
from ledger.store.monitors import SqlMonitorStore
from ledger.store.tables import audit_log, events, federation_journal, federation_transfers
from tests.ledger.federation_world import World, hours_terms, make_world


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return await make_world(engine)


def clearing(link: Link, commodity: str = HOURS) -> object:
    terms = link.versions[0].terms_for(commodity)
    assert terms is not None and terms.clearing_account_id is not None
    return terms.clearing_account_id


async def _rows(world: World, table: sa.Table) -> int:
    async with world.engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            table.c.community_id.in_([world.a.cid, world.b.cid])
        )
        return int((await conn.execute(query)).scalar_one())


async def test_a_proposal_gives_both_sides_a_row_with_mirrored_terms(world: World) -> None:
    links = world.federation.links
    link = await links.propose(world.a.cid, world.b.community.slug, hours_terms(we_owe=300))
    theirs = await links.get(world.b.cid, link.id)
    assert link.status is theirs.status is LinkStatus.PROPOSED
    assert link.proposed_here and not theirs.proposed_here
    assert theirs.partner.slug == world.a.community.slug
    eur = theirs.versions[0].terms_for("EUR")
    assert eur is not None and eur.rate == Rate(2, 3)
    hours = theirs.versions[0].terms_for(HOURS)
    assert hours is not None and (hours.limit_we_owe, hours.limit_they_owe) == (600, 300)
    account = await world.ledger.get_account(world.b.cid, hours.clearing_account_id)  # type: ignore[arg-type]
    assert account.code == f"link:{world.a.community.slug}:HOURS"
    with pytest.raises(errors.LedgerError) as refused:
        await world.federation.transfers.create(world.a.cid, world.request(link.id, 60))
    assert refused.value.code == "link_not_active"


async def test_the_link_is_active_once_both_sides_governance_adopted_it(world: World) -> None:
    links = world.federation.links
    link = await links.propose(world.a.cid, world.b.community.slug, hours_terms())
    with pytest.raises(errors.LedgerError) as not_steward:
        await links.consent(world.a.cid, link.id, 1, world.a.member.id)
    assert not_steward.value.code == "not_a_steward"
    with pytest.raises(errors.LedgerError) as proposer:
        await links.accept(world.a.cid, link.id, world.a.steward.id)
    assert proposer.value.code == "link_status_conflict"
    link = await links.consent(world.a.cid, link.id, 1, world.a.steward.id)
    assert link.status is LinkStatus.PROPOSED and link.versions[0].adopted_here_at is not None
    theirs = await links.accept(world.b.cid, link.id, world.b.steward.id)
    assert theirs.status is LinkStatus.ACTIVE
    assert (await links.get(world.a.cid, link.id)).status is LinkStatus.ACTIVE
    with pytest.raises(errors.LedgerError) as other:
        await links.get(world.b.cid, new_id())
    assert other.value.code == "link_not_found"


async def test_a_transfer_posts_on_both_books_at_the_quoted_rate(world: World) -> None:
    link = await world.link()
    request = world.request(link.id, 1001, commodity="EUR")
    transfer = await world.federation.transfers.create(world.a.cid, request)
    assert transfer.state is TransferState.COMMITTED and transfer.role is TransferRole.PAYER
    assert transfer.quote is not None and transfer.quote.amount_received == 1501  # floor(1.5005)
    received = await world.federation.transfers.get(world.b.cid, transfer.id)
    assert received.state is TransferState.COMMITTED and received.member_id == world.b.member.id
    assert await world.balance(world.a, world.a.eur.id) == -1001
    assert await world.balance(world.b, world.b.eur.id) == 1501
    ours = await world.federation.links.get(world.b.cid, link.id)
    assert await world.balance(world.a, clearing(link, "EUR")) == 1001  # type: ignore[arg-type]
    assert await world.balance(world.b, clearing(ours, "EUR")) == -1501  # type: ignore[arg-type]
    entry = await world.ledger.get_entry(world.a.cid, transfer.entry_id)  # type: ignore[arg-type]
    assert entry.status is EntryStatus.POSTED
    result = await world.federation.transfers.reconcile(world.a.cid, link.id)
    assert result.journal.agrees and result.journal.agrees_up_to == 1
    assert result.books_agree and result.books == {"EUR": 1001, HOURS: 0}
    assert result.journal.ours.partner_balances == {"EUR": -1501}


async def test_a_retried_transfer_has_one_effect(world: World) -> None:
    link = await world.link()
    request = world.request(link.id, 90)
    key = IdempotencyKey("test", "k1")
    first = await world.federation.transfers.create(world.a.cid, request, key)
    again = await world.federation.transfers.create(
        world.a.cid, replace(request, transfer_id=new_id()), key
    )
    same_id = await world.federation.transfers.create(world.a.cid, request)
    assert first == again == same_id
    assert (
        await world.balance(
            world.b,
            (await world.ledger.get_member(world.b.cid, world.b.member.id)).hours_account_id,
        )
        == 90
    )
    assert await _rows(world, federation_journal) == 2
    with pytest.raises(errors.LedgerError) as changed:
        await world.federation.transfers.create(world.a.cid, replace(request, amount=91))
    assert changed.value.code == "transfer_conflict"


@pytest.mark.parametrize(
    ("terms", "amount", "changes", "code"),
    [
        ({"we_owe": 100}, 101, {}, "link_limit_exceeded"),
        ({"rate": Rate(1, 1000)}, 999, {"commodity": "EUR"}, "amount_converts_to_zero"),
        ({}, 10, {"commodity": "EUR", "min_received": 16}, "below_minimum_received"),
        ({}, 10, {"commodity": "CHF"}, "commodity_not_carried"),
        ({}, 10, {"payee_member_id": new_id()}, "member_not_found"),
        ({}, 10, {"payer_member_id": new_id()}, "member_not_found"),
        ({}, 0, {}, "invalid_amount"),
        ({}, 10, {"transfer_link": new_id()}, "link_not_found"),
    ],
)
async def test_a_refused_transfer_writes_nothing(
    world: World, terms: dict[str, object], amount: int, changes: dict[str, object], code: str
) -> None:
    link = await world.link(**terms)
    entries_before = await _rows(world, federation_transfers)
    changes = dict(changes)  # the parameters are shared by both engines' runs
    link_id = changes.pop("transfer_link", link.id)
    with pytest.raises(errors.LedgerError) as refused:
        await world.federation.transfers.create(
            world.a.cid,
            world.request(link_id, amount, **changes),  # type: ignore[arg-type]
        )
    assert refused.value.code == code
    assert await _rows(world, federation_transfers) == entries_before == 0
    assert await _rows(world, federation_journal) == 0
    assert await world.balance(world.a, clearing(link)) == 0  # type: ignore[arg-type]


async def test_the_payee_side_checks_its_own_view_of_the_limit(world: World) -> None:
    """Between installs a stricter version may have reached the payee's side only: the payee's
    side refuses by its own terms (here, a version proposed on B's side alone)."""
    link = await world.link()
    units = world.federation.transactions
    now = world.clock()
    async with units.step() as tx:
        theirs = await tx.store.get_link(world.b.cid, link.id, lock=True)
        assert theirs is not None
        stricter = replace(theirs.versions[0], version=2, adopted_here_at=None, consents=())
        stricter = replace(
            stricter,
            commodities=tuple(replace(t, limit_they_owe=40) for t in stricter.commodities),
        )
        await sides.add_version(tx, world.b.cid, theirs, stricter, now)
        prepared = await protocol.prepare(tx, world.a.cid, world.request(link.id, 41), now)
        decided = await protocol.decide(tx, world.b.cid, protocol.offer_of(prepared), now)
        assert decided.state is TransferState.REJECTED
        assert decided.reason == "link_limit_exceeded"
        assert decided.entry_id is None


async def test_the_payee_member_limit_refuses_the_transfer(world: World) -> None:
    link = await world.link()
    member = await world.ledger.create_member(world.b.cid, "Capped", hours_max=30)
    with pytest.raises(errors.LedgerError) as refused:
        await world.federation.transfers.create(
            world.a.cid, world.request(link.id, 31, payee_member_id=member.id)
        )
    assert refused.value.code == "limit_exceeded"
    assert await _rows(world, federation_transfers) == 0


async def test_limits_count_every_transfer_in_both_directions(world: World) -> None:
    link = await world.link(we_owe=100, they_owe=50)
    transfers = world.federation.transfers
    await transfers.create(world.a.cid, world.request(link.id, 100))
    with pytest.raises(errors.LedgerError):
        await transfers.create(world.a.cid, world.request(link.id, 1))
    back = world.request(
        link.id, 150, payer_member_id=world.b.member.id, payee_member_id=world.a.member.id
    )
    await transfers.create(world.b.cid, back)  # pays off 100, then owes 50: its limit
    with pytest.raises(errors.LedgerError) as refused:
        await transfers.create(world.b.cid, replace(back, transfer_id=new_id(), amount=1))
    assert refused.value.code == "link_limit_exceeded"
    result = await transfers.reconcile(world.b.cid, link.id)
    assert result.journal.agrees and result.journal.agrees_up_to == 2
    assert result.books[HOURS] == 50 and result.books_agree


async def test_suspended_and_closed_links_carry_nothing(world: World) -> None:
    link = await world.link()
    links, transfers = world.federation.links, world.federation.transfers
    await links.set_status(world.b.cid, link.id, LinkStatus.SUSPENDED)
    with pytest.raises(errors.LedgerError) as suspended:
        await transfers.create(world.a.cid, world.request(link.id, 10))
    assert suspended.value.code == "link_not_active"
    with pytest.raises(errors.LedgerError) as not_theirs:
        await links.set_status(world.a.cid, link.id, LinkStatus.ACTIVE)
    assert not_theirs.value.code == "link_status_conflict"
    await links.set_status(world.b.cid, link.id, LinkStatus.ACTIVE)
    await transfers.create(world.a.cid, world.request(link.id, 10))
    await links.set_status(world.a.cid, link.id, LinkStatus.CLOSED)
    assert (await links.get(world.b.cid, link.id)).status is LinkStatus.CLOSED
    with pytest.raises(errors.LedgerError) as closed:
        await transfers.create(world.a.cid, world.request(link.id, 10))
    assert closed.value.code == "link_not_active"
    with pytest.raises(errors.LedgerError) as final:
        await links.set_status(world.a.cid, link.id, LinkStatus.ACTIVE)
    assert final.value.code == "link_status_conflict"


async def test_a_closed_link_is_followed_by_new_ones_each_with_its_own_clearing_account(
    world: World,
) -> None:
    """Link ids are UUIDv7, time-ordered: a suffix from their first hex digits (the clock) was
    the same for two links made within a minute, and the third link failed on its code."""
    links, codes = world.federation.links, set()
    for _ in range(3):
        link = await links.propose(world.a.cid, world.b.community.slug, hours_terms())
        with pytest.raises(errors.LedgerError) as again:
            await links.propose(world.a.cid, world.b.community.slug, hours_terms())
        assert again.value.code == "link_exists"
        account_id = link.versions[0].commodities[0].clearing_account_id
        assert account_id is not None
        account = await world.ledger.get_account(world.a.cid, account_id)
        assert account.name == "Clearing with Hilltop (EUR)"  # the partner's name, not its slug
        codes.add(account.code)
        await links.set_status(world.a.cid, link.id, LinkStatus.CLOSED)
    assert len(codes) == 3


async def test_new_terms_hold_their_stricter_limits_at_once_and_their_rate_once_adopted(
    world: World,
) -> None:
    link = await world.link()
    links = world.federation.links
    link = await links.propose_version(
        world.a.cid, link.id, hours_terms(we_owe=900, they_owe=60, rate=Rate(2, 1))
    )
    held = in_force(link, HOURS).terms
    assert (held.limit_we_owe, held.limit_they_owe) == (600, 60)
    assert in_force(link, "EUR").terms.rate == Rate(3, 2) and in_force(link, "EUR").version == 1
    theirs = await links.get(world.b.cid, link.id)
    assert theirs.versions[1].terms_for(HOURS).limit_we_owe == 60  # type: ignore[union-attr]
    await links.consent(world.a.cid, link.id, 2, world.a.steward.id)
    link = await links.consent(world.b.cid, link.id, 2, world.b.steward.id)
    now = in_force(link, "EUR")
    assert now.version == 2 and now.terms.rate == Rate(1, 2)  # B's view of A's 2/1
    transfer = await world.federation.transfers.create(
        world.a.cid, world.request(link.id, 10, commodity="EUR")
    )
    assert transfer.quote is not None and transfer.quote.rate_version == 2
    assert transfer.quote.amount_received == 20


async def test_the_payee_side_refuses_an_expired_offer_and_the_payer_voids(world: World) -> None:
    link = await world.link()
    units = world.federation.transactions
    now = world.clock()
    async with units.step() as tx:
        prepared = await protocol.prepare(tx, world.a.cid, world.request(link.id, 45), now)
        late = now + timedelta(seconds=300) - SKEW_MARGIN
        decided = await protocol.decide(tx, world.b.cid, protocol.offer_of(prepared), late)
        assert decided.state is TransferState.REJECTED and decided.reason == "quote_expired"
        again = await protocol.decide(tx, world.b.cid, protocol.offer_of(prepared), now)
        assert again == decided  # the recorded outcome is final
        outcome = Outcome(prepared.id, decided.state, decided.reason)
        settled = await protocol.settle(tx, world.a.cid, outcome, late)
        assert settled.state is TransferState.REJECTED
        assert await protocol.settle(tx, world.a.cid, outcome, late) == settled
        entry = await tx.repo.get_entry(world.a.cid, prepared.entry_id)  # type: ignore[arg-type]
        assert entry is not None and entry.status is EntryStatus.VOIDED
        assert await tx.store.journal_head(world.a.cid, link.id) is None


async def test_an_unseen_transfer_asked_about_after_expiry_can_never_commit(world: World) -> None:
    link = await world.link()
    units = world.federation.transactions
    now = world.clock()
    async with units.step() as tx:
        prepared = await protocol.prepare(tx, world.a.cid, world.request(link.id, 45), now)
        offer = protocol.offer_of(prepared)
        early = await protocol.payee_state(
            tx,
            world.b.cid,
            link_id=link.id,
            transfer_id=prepared.id,
            expires_at=offer.expires_at,
            now=now,
        )
        assert early is None
        tombstone = await protocol.payee_state(
            tx,
            world.b.cid,
            link_id=link.id,
            transfer_id=prepared.id,
            expires_at=offer.expires_at,
            now=offer.expires_at,
        )
        assert tombstone is not None and tombstone.reason == "quote_expired"
        late_prepare = await protocol.decide(tx, world.b.cid, offer, now)
        assert late_prepare == tombstone


async def test_terms_and_amounts_must_fit_on_both_sides_after_conversion(world: World) -> None:
    links = world.federation.links
    huge = hours_terms(rate=Rate(10**12, 1), eur_we_owe=10**6)
    with pytest.raises(errors.LedgerError) as refused:
        await links.propose(world.a.cid, world.b.community.slug, huge)
    assert refused.value.code == "invalid_input"
    link = await world.link(rate=Rate(10**6, 1), eur_we_owe=10**6, eur_they_owe=0)
    with pytest.raises(errors.LedgerError) as too_much:
        await world.federation.transfers.create(
            world.a.cid, world.request(link.id, 10**10, commodity="EUR")
        )
    assert too_much.value.code == "invalid_amount"


async def test_every_step_is_audited_on_its_own_side(world: World) -> None:
    link = await world.link()
    transfer = await world.federation.transfers.create(world.a.cid, world.request(link.id, 30))
    async with world.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(audit_log.c.community_id, audit_log.c.operation).where(
                audit_log.c.community_id.in_([world.a.cid, world.b.cid])
            )
        )
        found = {(row.community_id, row.operation) for row in rows}
        types = set(
            (
                await conn.execute(
                    sa.select(events.c.type).where(events.c.resource_id == str(transfer.id))
                )
            ).scalars()
        )
    a, b = world.a.cid, world.b.cid
    assert {
        (a, "propose_link"),
        (b, "receive_link"),
        (a, "consent_link_version"),
        (a, "adopt_link_version"),
        (b, "partner_adopted_link_version"),
        (b, "consent_link_version"),
        (b, "adopt_link_version"),
        (b, "activate_link"),
        (a, "activate_link"),
        (a, "federation_transfer"),
        (b, "receive_federation_transfer"),
    } <= found
    assert types == {"federation.transfer.committed"}


async def test_link_writes_replay_under_their_key(world: World) -> None:
    links = world.federation.links
    key = IdempotencyKey("test", "propose")
    first = await links.propose(world.a.cid, world.b.community.slug, hours_terms(), 300, key)
    again = await links.propose(world.a.cid, world.b.community.slug, hours_terms(), 300, key)
    assert again == first
    assert len(await links.list_links(world.b.cid)) == 1
    consent = IdempotencyKey("test", "consent")
    adopted = await links.consent(world.a.cid, first.id, 1, world.a.steward.id, consent)
    assert await links.consent(world.a.cid, first.id, 1, world.a.steward.id, consent) == adopted


async def test_a_monitor_crossed_by_a_transfer_tells_its_own_community(world: World) -> None:
    """The payer's crossing (its reservation, at prepare, moves ``available``) goes into the
    payer's trail and feed, not the payee's, though the payee's record is written first in the
    same transaction: each community's crossings wait for its own next audit record."""
    units = SqlUnitOfWorkFactory(world.engine)
    feed = EventFeed(units, SqlEventStore.of)
    monitors = Monitors(units, SqlMonitorStore.of, utc_now)
    await monitors.create(
        world.a.cid, world.a.eur.id, direction="below", threshold=-500, measure="available"
    )
    link = await world.link()
    await world.federation.transfers.create(
        world.a.cid, world.request(link.id, 1001, commodity="EUR")
    )
    crossed = ["balance.threshold_crossed"]
    found = {
        side.cid: [e.resource_kind for e in (await feed.page(side.cid, types=crossed)).events]
        for side in (world.a, world.b)
    }
    assert found == {world.a.cid: ["monitor"], world.b.cid: []}
