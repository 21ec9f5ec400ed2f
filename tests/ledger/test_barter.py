"""Barter: one atomic entry balanced per commodity, goods accounts opened on first use."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.books.service import Ledger
from ledger.economy.barter import BARTER_KIND, BarterItem, BarterSide
from ledger.economy.service import Economy
from ledger.kernel import errors
from ledger.kernel.model import HOURS, Community, IdempotencyKey, Member
from tests.ledger.economy_fixtures import account, clock, coop, economy

__all__ = ["clock", "coop", "economy"]


@pytest.fixture
async def goods(ledger: Ledger, coop: Community) -> Community:
    await ledger.add_commodity(coop.id, "EGGS", "Eggs", 0)
    await ledger.add_commodity(coop.id, "HONEY", "Jars of honey", 0)
    return coop


async def _members(ledger: Ledger, community: Community) -> tuple[Member, Member, Member]:
    ann = await ledger.create_member(community.id, "Ann", hours_min=-600)
    bob = await ledger.create_member(community.id, "Bob", hours_min=-60)
    carol = await ledger.create_member(community.id, "Carol")
    return ann, bob, carol


def _side(member: Member | None, *items: tuple[str, int, str]) -> BarterSide:
    return BarterSide(
        None if member is None else member.id,
        tuple(BarterItem(c, q, d) for c, q, d in items),
    )


async def _codes(ledger: Ledger, community: Community) -> set[str]:
    return {a.code for a in await ledger.list_accounts(community.id)}


async def test_eggs_for_an_hour_is_one_entry_balanced_per_commodity(
    ledger: Ledger, economy: Economy, goods: Community
) -> None:
    ann, bob, _ = await _members(ledger, goods)
    barter = await economy.barters.record(
        goods.id,
        (_side(ann, ("EGGS", 12, "a dozen eggs")), _side(bob, (HOURS, 60, "an hour of weeding"))),
        "Eggs for weeding",
    )
    entry = await ledger.get_entry(goods.id, barter.id)
    assert entry.kind == BARTER_KIND
    sums: dict[str, int] = defaultdict(int)
    for posting in entry.postings:
        sums[posting.commodity] += posting.amount
    assert dict(sums) == {"EGGS": 0, HOURS: 0}
    ann_eggs = await account(ledger, goods, f"member:{ann.id}:EGGS")
    bob_eggs = await account(ledger, goods, f"member:{bob.id}:EGGS")
    assert (ann_eggs.member_id, bob_eggs.member_id) == (ann.id, bob.id)
    assert (await ledger.balance(goods.id, ann_eggs.id)).posted == 12  # gave: owed
    assert (await ledger.balance(goods.id, bob_eggs.id)).posted == -12
    assert (await ledger.balance(goods.id, bob.hours_account_id)).posted == 60
    assert (await ledger.balance(goods.id, ann.hours_account_id)).posted == -60
    assert barter.sides[0].gives[0].description == "a dozen eggs"
    assert await economy.barters.get(goods.id, barter.id) == barter
    # The second trade in eggs reuses the accounts.
    before = await _codes(ledger, goods)
    await economy.barters.record(
        goods.id, (_side(bob, ("EGGS", 2, "two eggs")), _side(ann, (HOURS, 10, "a chat"))), "More"
    )
    assert await _codes(ledger, goods) == before


async def test_a_member_trades_with_the_community(
    ledger: Ledger, economy: Economy, goods: Community
) -> None:
    ann, _, _ = await _members(ledger, goods)
    await economy.barters.record(
        goods.id,
        (_side(None, ("HONEY", 3, "three jars")), _side(ann, (HOURS, 120, "bee keeping help"))),
        "Honey for help with the hives",
    )
    pool = await account(ledger, goods, "Equity:HoursPool")
    honey = await account(ledger, goods, "Assets:Goods:HONEY")
    assert (await ledger.balance(goods.id, pool.id)).posted == -120
    assert (await ledger.balance(goods.id, honey.id)).posted == -3
    assert (await ledger.balance(goods.id, ann.hours_account_id)).posted == 120


async def test_one_bad_side_writes_nothing(
    ledger: Ledger, economy: Economy, goods: Community
) -> None:
    ann, bob, _ = await _members(ledger, goods)
    before = await _codes(ledger, goods)
    eggs = ("EGGS", 6, "eggs")
    with pytest.raises(errors.CommodityNotFound):
        await economy.barters.record(
            goods.id, (_side(ann, eggs), _side(bob, ("MILK", 1, "milk"))), "Unknown milk"
        )
    with pytest.raises(errors.LimitExceeded):  # Bob may owe 60 minutes at most
        await economy.barters.record(
            goods.id, (_side(bob, eggs), _side(ann, (HOURS, 61, "help"))), "Too much help"
        )
    with pytest.raises(errors.MemberNotFound):
        await economy.barters.record(
            goods.id,
            (_side(ann, eggs), BarterSide(goods.id, (BarterItem(HOURS, 5, "x"),))),
            "Unknown member",
        )
    assert await _codes(ledger, goods) == before  # no goods account was left opened
    assert await economy.barters.list_barters(goods.id) == []
    assert await ledger.list_entries(goods.id) == []


@pytest.mark.parametrize(
    "sides",
    [
        ((), ((HOURS, 5, "help"),)),
        ((("EGGS", 1, "egg"),), (("EGGS", 1, "egg"),)),
        ((("EGGS", 1, "egg"), ("EGGS", 2, "eggs")), ((HOURS, 5, "help"),)),
        ((("EGGS", 0, "none"),), ((HOURS, 5, "help"),)),
        ((("EGGS", 1, " "),), ((HOURS, 5, "help"),)),
    ],
)
async def test_malformed_barters_are_refused(
    ledger: Ledger, economy: Economy, goods: Community, sides: tuple[tuple[object, ...], ...]
) -> None:
    ann, bob, _ = await _members(ledger, goods)
    first, second = (_side(m, *items) for m, items in zip((ann, bob), sides, strict=True))  # type: ignore[arg-type]
    with pytest.raises((errors.InvalidInput, errors.InvalidAmount)):
        await economy.barters.record(goods.id, (first, second), "Bad")
    with pytest.raises(errors.InvalidInput):
        await economy.barters.record(goods.id, (_side(ann, ("EGGS", 1, "e")),) * 2, "Self")


async def test_members_see_their_own_barters_and_retries_replay(
    ledger: Ledger, economy: Economy, goods: Community
) -> None:
    ann, bob, carol = await _members(ledger, goods)
    key = IdempotencyKey("test", "b-1")
    sides = (_side(ann, ("EGGS", 12, "eggs")), _side(bob, (HOURS, 30, "help")))
    first = await economy.barters.record(goods.id, sides, "Eggs", idempotency_key=key)
    assert await economy.barters.record(goods.id, sides, "Eggs", idempotency_key=key) == first
    other = await economy.barters.record(
        goods.id, (_side(carol, ("HONEY", 1, "jar")), _side(None, (HOURS, 30, "help"))), "Jar"
    )
    assert [b.id for b in await economy.barters.list_barters(goods.id)] == [first.id, other.id]
    assert [b.id for b in await economy.barters.list_barters(goods.id, member_id=bob.id)] == [
        first.id
    ]
    assert [b.id for b in await economy.barters.list_barters(goods.id, member_id=carol.id)] == [
        other.id
    ]
    assert first.involves(ann.id) and not first.involves(carol.id)


QUANTITIES = st.lists(st.integers(1, 10_000), min_size=1, max_size=3)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=QUANTITIES, second=QUANTITIES, community_side=st.booleans())
async def test_every_barter_balances_per_commodity(
    ledger: Ledger,
    economy: Economy,
    goods: Community,
    first: list[int],
    second: list[int],
    community_side: bool,
) -> None:
    ann = await ledger.create_member(goods.id, "Ann")
    bob = None if community_side else await ledger.create_member(goods.id, "Bob")
    codes = ("EGGS", "HONEY", HOURS)
    gives = [
        [(codes[i], q, "thing") for i, q in enumerate(first)],
        [(codes[len(first) + i], q, "thing") for i, q in enumerate(second) if len(first) + i < 3],
    ]
    if not gives[1]:
        return
    barter = await economy.barters.record(
        goods.id, (_side(ann, *gives[0]), _side(bob, *gives[1])), "Trade"
    )
    entry = await ledger.get_entry(goods.id, barter.id)
    sums: dict[str, int] = defaultdict(int)
    for posting in entry.postings:
        sums[posting.commodity] += posting.amount
    assert set(sums.values()) == {0}
    assert set(sums) == {c for c, _, _ in gives[0] + gives[1]}
    # What Ann gave raised her account in that commodity by exactly its quantity.
    for commodity, quantity, _ in gives[0]:
        own = [p for p in entry.postings if p.commodity == commodity and p.amount < 0]
        assert [p.amount for p in own] == [-quantity]


async def test_concurrent_first_trades_open_each_goods_account_once(
    ledger: Ledger, economy: Economy, goods: Community
) -> None:
    ann, bob, _ = await _members(ledger, goods)
    trades = [
        (_side(ann, ("EGGS", 1, "an egg")), _side(bob, (HOURS, 1, "a minute"))),
        (_side(bob, ("EGGS", 2, "two eggs")), _side(ann, (HOURS, 1, "a minute"))),
    ]
    # Eight first trades at once, in both directions, all need Ann's and Bob's EGGS accounts:
    # one opens them, the others find them (on PostgreSQL, after waiting for the opener to
    # commit), and opening them in one fixed order means no two trades deadlock.
    barters = await asyncio.gather(
        *(economy.barters.record(goods.id, trades[i % 2], f"Trade {i}") for i in range(8))
    )
    assert len({b.id for b in barters}) == 8
    eggs = [a for a in await ledger.list_accounts(goods.id) if a.commodity == "EGGS"]
    assert sorted(a.code for a in eggs) == sorted(f"member:{m.id}:EGGS" for m in (ann, bob))
    ann_eggs = next(a for a in eggs if a.member_id == ann.id)
    assert (await ledger.balance(goods.id, ann_eggs.id)).posted == 4 * 1 - 4 * 2
