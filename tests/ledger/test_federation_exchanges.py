"""Cross time-bank exchanges on one install: recorded by one member, confirmed or declined by
the other in their own community, the hours moved by a cross transfer within both sides' limits
or not at all; and the opt-in directory of linked communities' members (docs/federation.md
names these tests)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.federation.exchange_model import CrossRecord, CrossStatus, ExchangeRole
from ledger.federation.model import Link, LinkStatus, TransferState
from ledger.kernel import errors
from ledger.kernel.model import IdempotencyKey, new_id
from ledger.store.tables import audit_log, events, federation_exchanges, federation_transfers
from tests.ledger.federation_world import World, make_side, make_world


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return await make_world(engine)


def provided(world: World, link: Link, minutes: int = 120) -> CrossRecord:
    """A's member says: I helped B's member for ``minutes``."""
    return CrossRecord(
        link.id, world.a.member.id, ExchangeRole.PROVIDER, world.b.member.id, minutes, "Garden"
    )


async def _hours(world: World) -> tuple[int, int]:
    a = await world.balance(world.a, world.a.member.hours_account_id)
    b = await world.balance(world.b, world.b.member.hours_account_id)
    return a, b


async def _count(world: World, table: sa.Table) -> int:
    async with world.engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            table.c.community_id.in_([world.a.cid, world.b.cid])
        )
        return int((await conn.execute(query)).scalar_one())


async def test_the_receiver_confirms_and_the_hours_cross_as_a_transfer(world: World) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    recorded = await exchanges.record(world.a.cid, provided(world, link))
    assert recorded.status is CrossStatus.PENDING and recorded.recorded_here
    waiting = await exchanges.list_exchanges(world.b.cid, member_id=world.b.member.id)
    assert [x.id for x in waiting] == [recorded.id]
    assert waiting[0].awaits(world.b.member.id) and waiting[0].role is ExchangeRole.RECEIVER
    assert await _hours(world) == (0, 0)  # nothing moves nor is reserved before confirmation
    done = await exchanges.complete(world.b.cid, recorded.id, world.b.member.id, confirm=True)
    assert done.status is CrossStatus.CONFIRMED and done.completed_at is not None
    assert (await exchanges.get(world.a.cid, recorded.id)).status is CrossStatus.CONFIRMED
    assert await _hours(world) == (120, -120)
    # The hours crossed by the one cross transfer, whose id is the exchange's: B's member paid.
    payer = await world.federation.transfers.get(world.b.cid, recorded.id)
    payee = await world.federation.transfers.get(world.a.cid, recorded.id)
    assert payer.state is payee.state is TransferState.COMMITTED
    assert payer.member_id == world.b.member.id and payee.member_id == world.a.member.id
    assert (await world.federation.transfers.reconcile(world.a.cid, link.id)).journal.agrees


async def test_recorded_by_the_receiver_the_provider_confirms(world: World) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    # "Ann of Riverside helped me", recorded by B's member (the receiver) in Hilltop.
    record = CrossRecord(
        link.id, world.b.member.id, ExchangeRole.RECEIVER, world.a.member.id, 45, "Soup"
    )
    recorded = await exchanges.record(world.b.cid, record)
    theirs = await exchanges.get(world.a.cid, recorded.id)
    assert theirs.role is ExchangeRole.PROVIDER and theirs.awaits(world.a.member.id)
    with pytest.raises(errors.LedgerError) as own:
        await exchanges.complete(world.b.cid, recorded.id, world.b.member.id, confirm=True)
    assert own.value.code == "recorder_cannot_confirm"
    await exchanges.complete(world.a.cid, recorded.id, world.a.member.id, confirm=True)
    assert await _hours(world) == (45, -45)


async def test_the_recorder_can_neither_confirm_nor_decline(world: World) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    recorded = await exchanges.record(world.a.cid, provided(world, link))
    for confirm in (True, False):
        with pytest.raises(errors.LedgerError) as refused:
            await exchanges.complete(world.a.cid, recorded.id, world.a.member.id, confirm=confirm)
        assert refused.value.code == "recorder_cannot_confirm"
        # Nor an API key of the recorder's community acting for the recorder.
        with pytest.raises(errors.LedgerError) as key:
            await exchanges.complete(world.a.cid, recorded.id, None, confirm=confirm)
        assert key.value.code == "recorder_cannot_confirm"
    # Another member of the receiver's community cannot see it.
    with pytest.raises(errors.LedgerError) as other:
        await exchanges.complete(world.b.cid, recorded.id, world.b.steward.id, confirm=True)
    assert other.value.code == "exchange_not_found"
    assert await _hours(world) == (0, 0)


async def test_declined_nothing_moves_and_it_is_final(world: World) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    recorded = await exchanges.record(world.a.cid, provided(world, link))
    done = await exchanges.complete(world.b.cid, recorded.id, world.b.member.id, confirm=False)
    assert done.status is CrossStatus.DECLINED
    assert (await exchanges.get(world.a.cid, recorded.id)).status is CrossStatus.DECLINED
    with pytest.raises(errors.LedgerError) as again:
        await exchanges.complete(world.b.cid, recorded.id, world.b.member.id, confirm=True)
    assert again.value.code == "entry_not_pending"
    assert await _hours(world) == (0, 0)
    assert await _count(world, federation_transfers) == 0


async def test_a_confirmation_over_a_link_limit_writes_nothing(world: World) -> None:
    # B may owe A at most 100 minutes (A's limit_they_owe is B's limit_we_owe).
    link = await world.link(they_owe=100)
    exchanges = world.federation.exchanges
    recorded = await exchanges.record(world.a.cid, provided(world, link, 101))
    audits = await _count(world, audit_log)
    with pytest.raises(errors.LedgerError) as over:
        await exchanges.complete(world.b.cid, recorded.id, world.b.member.id, confirm=True)
    assert over.value.code == "link_limit_exceeded"
    assert (await exchanges.get(world.b.cid, recorded.id)).status is CrossStatus.PENDING
    assert await _hours(world) == (0, 0)
    assert await _count(world, federation_transfers) == 0
    assert await _count(world, audit_log) == audits
    # Declining is still possible, and the suspended link does not prevent it either.
    await world.federation.links.set_status(world.a.cid, link.id, LinkStatus.SUSPENDED)
    with pytest.raises(errors.LedgerError) as suspended:
        await exchanges.complete(world.b.cid, recorded.id, world.b.member.id, confirm=True)
    assert suspended.value.code == "link_not_active"
    await exchanges.complete(world.b.cid, recorded.id, world.b.member.id, confirm=False)


async def test_recording_refusals_write_nothing(world: World) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    record = provided(world, link)
    bad = [
        (
            CrossRecord(new_id(), record.member_id, record.role, record.partner_member_id, 60, "x"),
            "link_not_found",
        ),
        (
            CrossRecord(link.id, record.member_id, record.role, new_id(), 60, "x"),
            "member_not_found",
        ),
        (
            CrossRecord(link.id, new_id(), record.role, record.partner_member_id, 60, "x"),
            "member_not_found",
        ),
        (
            CrossRecord(link.id, record.member_id, record.role, record.partner_member_id, 0, "x"),
            "invalid_input",
        ),
        (
            CrossRecord(link.id, record.member_id, record.role, record.partner_member_id, 60, " "),
            "invalid_input",
        ),
    ]
    for wrong, code in bad:
        with pytest.raises(errors.LedgerError) as refused:
            await exchanges.record(world.a.cid, wrong)
        assert refused.value.code == code, wrong
    # A member of B is not a member of A: recording "for" them from A's side is refused.
    with pytest.raises(errors.LedgerError) as swapped:
        await exchanges.record(
            world.a.cid,
            CrossRecord(link.id, world.b.member.id, record.role, world.a.member.id, 60, "x"),
        )
    assert swapped.value.code == "member_not_found"
    await world.federation.links.set_status(world.b.cid, link.id, LinkStatus.SUSPENDED)
    with pytest.raises(errors.LedgerError) as suspended:
        await exchanges.record(world.a.cid, record)
    assert suspended.value.code == "link_not_active"
    assert await _count(world, federation_exchanges) == 0


async def test_another_community_sees_nothing(world: World) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    recorded = await exchanges.record(world.a.cid, provided(world, link))
    c = await make_side(world.ledger, world.governance, "valley", "Valley")
    with pytest.raises(errors.LedgerError) as hidden:
        await exchanges.get(c.cid, recorded.id)
    assert hidden.value.code == "exchange_not_found"
    assert await exchanges.list_exchanges(c.cid) == []
    with pytest.raises(errors.LedgerError) as not_theirs:
        await exchanges.complete(c.cid, recorded.id, None, confirm=True)
    assert not_theirs.value.code == "exchange_not_found"


async def test_audit_and_events_on_both_sides(world: World) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    recorded = await exchanges.record(world.a.cid, provided(world, link))
    await exchanges.complete(world.b.cid, recorded.id, world.b.member.id, confirm=True)
    async with world.engine.connect() as conn:
        ops = {
            (row.community_id, row.operation)
            for row in await conn.execute(
                sa.select(audit_log.c.community_id, audit_log.c.operation)
            )
        }
        types = {
            (row.community_id, row.type)
            for row in await conn.execute(sa.select(events.c.community_id, events.c.type))
        }
    a, b = world.a.cid, world.b.cid
    assert {
        (a, "record_cross_exchange"),
        (b, "receive_cross_exchange"),
        (b, "confirm_cross_exchange"),
        (a, "partner_confirmed_cross_exchange"),
        (b, "federation_transfer"),
        (a, "receive_federation_transfer"),
    } <= ops
    assert {
        (a, "federation.exchange.requested"),
        (b, "federation.exchange.requested"),
        (a, "federation.exchange.confirmed"),
        (b, "federation.exchange.confirmed"),
        (b, "federation.transfer.committed"),
        (a, "federation.transfer.committed"),
    } <= types


async def test_the_directory_lists_only_opted_in_members_of_linked_communities(
    world: World,
) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    assert await exchanges.directory(world.a.cid) == []  # nobody listed by default
    await exchanges.set_listed(world.b.cid, world.b.member.id, True)
    await exchanges.set_listed(world.a.cid, world.a.member.id, True)
    listed = await exchanges.directory(world.a.cid)
    assert [(x.member_id, x.community_slug, x.link_id) for x in listed] == [
        (world.b.member.id, world.b.community.slug, link.id)
    ]
    assert listed[0].name == world.b.member.name and listed[0].community_name == "Hilltop"
    # A community with no link to B sees none of B's members.
    c = await make_side(world.ledger, world.governance, "valley", "Valley")
    assert await exchanges.directory(c.cid) == []
    await exchanges.set_listed(world.b.cid, world.b.member.id, False)
    assert await exchanges.directory(world.a.cid) == []
    assert not await exchanges.is_listed(world.b.cid, world.b.member.id)
    await exchanges.set_listed(world.b.cid, world.b.member.id, True)
    await world.federation.links.set_status(world.a.cid, link.id, LinkStatus.SUSPENDED)
    assert await exchanges.directory(world.a.cid) == []
    with pytest.raises(errors.LedgerError) as stranger:
        await exchanges.set_listed(world.a.cid, world.b.member.id, True)
    assert stranger.value.code == "member_not_found"


async def test_a_retried_record_or_answer_has_one_effect(world: World) -> None:
    link = await world.link()
    exchanges = world.federation.exchanges
    key = IdempotencyKey("test", "x1")
    first = await exchanges.record(world.a.cid, provided(world, link), key)
    again = await exchanges.record(world.a.cid, provided(world, link), key)
    assert first == again
    assert await _count(world, federation_exchanges) == 2  # one row on each side
    answer = IdempotencyKey("test", "x2")
    done = await exchanges.complete(
        world.b.cid, first.id, world.b.member.id, confirm=True, key=answer
    )
    same = await exchanges.complete(
        world.b.cid, first.id, world.b.member.id, confirm=True, key=answer
    )
    assert done == same
    assert await _hours(world) == (120, -120)
