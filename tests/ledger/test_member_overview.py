"""The member page's figures on both engines: a month counts confirmed exchanges by their
effective date; the directory lists every member by name."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from ledger.books.service import Ledger
from ledger.kernel.model import Community, Member, NewEntry
from ledger.timebank.exchanges import Exchange, Exchanges, ExchangeStatus, exchange_entry
from ledger.timebank.member_overview import CommunityMonth, MemberMonth, MemberOverview


def _help(giver: Member, receiver: Member, minutes: int, day: date, *, pending: bool) -> NewEntry:
    return exchange_entry(giver, receiver, minutes, "help", effective_date=day, pending=pending)


def _parties(exchange: Exchange) -> tuple[uuid.UUID, uuid.UUID]:
    return (exchange.provider_member_id, exchange.receiver_member_id)


async def test_a_month_counts_confirmed_exchanges_of_that_month(
    ledger: Ledger, community: Community
) -> None:
    ann, bob, cy, dee = [
        await ledger.create_member(community.id, name, hours_min=-6000)
        for name in ("ann", "Bob", "Cy", "Dee")
    ]
    today = date(2026, 3, 15)
    first, last_of_previous = date(2026, 3, 1), date(2026, 2, 28)
    for entry in (
        _help(ann, bob, 60, first, pending=False),  # counts
        _help(bob, ann, 25, date(2026, 3, 31), pending=False),  # counts
        _help(cy, ann, 500, last_of_previous, pending=False),  # last month
        _help(ann, cy, 700, date(2026, 4, 1), pending=False),  # next month
        _help(dee, ann, 40, first, pending=True),  # not confirmed
    ):
        await ledger.post_entry(community.id, entry)
    declined = await ledger.post_entry(community.id, _help(cy, bob, 90, first, pending=True))
    await Exchanges(ledger).decline(community.id, declined.id)

    overview = MemberOverview(ledger)
    assert await overview.member_month(community.id, ann.id, today) == MemberMonth(60, 25)
    assert await overview.member_month(community.id, cy.id, today) == MemberMonth(0, 0)
    assert await overview.community_month(community.id, today) == CommunityMonth(85, 2)
    assert await overview.community_month(
        community.id, last_of_previous - timedelta(days=3)
    ) == CommunityMonth(500, 2)
    directory = await overview.directory(community.id)
    assert [entry.name for entry in directory] == ["ann", "Bob", "Cy", "Dee"]


async def test_recent_lists_newest_first_and_what_waits_for_the_member(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = [await ledger.create_member(community.id, n, hours_min=-600) for n in "AB"]
    exchanges = Exchanges(ledger)
    recorded = [
        await exchanges.record(
            community.id,
            provider_id=giver.id,
            receiver_id=taker.id,
            minutes=10 + i,
            description=f"help {i}",
        )
        for i, (giver, taker) in enumerate([(bob, ann), (ann, bob), (bob, ann)])
    ]
    await exchanges.confirm(community.id, recorded[2].id)
    recent, to_answer = await MemberOverview(ledger).recent(community.id, ann.id, 2)
    assert [e.id for e in recent] == [recorded[2].id, recorded[1].id]
    assert [e.id for e in to_answer] == [recorded[0].id]
    _, bobs = await MemberOverview(ledger).recent(community.id, bob.id, 5)
    assert [e.id for e in bobs] == [recorded[1].id]


async def test_the_figures_read_only_what_they_show_and_agree_with_the_whole_history(
    ledger: Ledger, community: Community
) -> None:
    """A month's figures and the latest exchanges, read by effective date and newest first,
    against the same figures worked out from every exchange of the history."""
    rng = random.Random(20)
    members = [
        await ledger.create_member(community.id, name, hours_min=-100_000)
        for name in ("Ann", "Bob", "Cy")
    ]
    written = []
    for i in range(70):
        giver, receiver = rng.sample(members, 2)
        day = date(2025, 11, 1) + timedelta(days=rng.randrange(430))
        entry = _help(giver, receiver, 5 + i, day, pending=rng.random() < 0.3)
        written.append(await ledger.post_entry(community.id, entry))
    history = await Exchanges(ledger).list_exchanges(community.id, limit=500)
    assert [e.id for e in history] == [e.id for e in written]
    overview = MemberOverview(ledger)

    # Every month of the history, and one on each side of it.
    day = date(2025, 10, 15)
    while day <= date(2027, 2, 1):
        confirmed = [
            e
            for e in history
            if e.status is ExchangeStatus.CONFIRMED
            and (e.effective_date.year, e.effective_date.month) == (day.year, day.month)
        ]
        for member in members:
            mine = [
                e for e in confirmed if member.id in (e.provider_member_id, e.receiver_member_id)
            ]
            expected = MemberMonth(
                sum(e.minutes for e in mine if e.provider_member_id == member.id),
                sum(e.minutes for e in mine if e.receiver_member_id == member.id),
            )
            assert await overview.member_month(community.id, member.id, day) == expected
        active = {m for e in confirmed for m in (e.provider_member_id, e.receiver_member_id)}
        expected_month = CommunityMonth(sum(e.minutes for e in confirmed), len(active))
        assert await overview.community_month(community.id, day) == expected_month
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=15)

    for member in members:
        theirs = [e for e in history if member.id in _parties(e)]
        waiting = [
            e.id
            for e in theirs
            if e.status is ExchangeStatus.PENDING and e.answerable_by(member.id)
        ]
        for count in (1, 7, 200):
            recent, to_answer = await overview.recent(community.id, member.id, count)
            assert [e.id for e in recent] == [e.id for e in theirs[::-1][:count]]
            assert [e.id for e in to_answer] == waiting


async def test_entries_page_newest_first_from_a_cursor(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = [await ledger.create_member(community.id, n, hours_min=-600) for n in "AB"]
    written = [
        await ledger.post_entry(
            community.id, _help(ann, bob, 1 + i, date(2026, 1, 1), pending=False)
        )
        for i in range(7)
    ]
    pages: list[uuid.UUID] = []
    after: uuid.UUID | None = None
    while True:
        page = await ledger.list_entries(community.id, after=after, limit=3, newest_first=True)
        pages += [e.id for e in page]
        if len(page) < 3:
            break
        after = page[-1].id
    assert pages == [e.id for e in reversed(written)]


async def test_a_reversed_exchange_leaves_the_month_as_the_report_leaves_it(
    ledger: Ledger, community: Community
) -> None:
    """An exchange the treasurer reversed no longer counts in the month's figures, as in the
    sustainability report: undone by a posted reversal dated by the month's end."""
    ann, bob = [await ledger.create_member(community.id, n, hours_min=-600) for n in "AB"]
    today = date(2026, 3, 15)
    kept = await ledger.post_entry(
        community.id, _help(ann, bob, 30, date(2026, 3, 2), pending=False)
    )
    mistaken = await ledger.post_entry(
        community.id, _help(ann, bob, 90, date(2026, 3, 3), pending=False)
    )
    later = await ledger.post_entry(
        community.id, _help(bob, ann, 45, date(2026, 2, 27), pending=False)
    )
    await ledger.reverse(community.id, mistaken.id, effective_date=date(2026, 3, 4))
    # Reversed only after the month it happened in: that month still counts it.
    await ledger.reverse(community.id, later.id, effective_date=date(2026, 3, 5))
    overview = MemberOverview(ledger)
    assert await overview.member_month(community.id, ann.id, today) == MemberMonth(30, 0)
    assert await overview.member_month(community.id, bob.id, today) == MemberMonth(0, 30)
    assert await overview.community_month(community.id, today) == CommunityMonth(30, 2)
    assert await overview.member_month(community.id, ann.id, date(2026, 2, 1)) == MemberMonth(0, 45)
    assert await overview.community_month(community.id, date(2026, 2, 1)) == CommunityMonth(45, 2)
    assert kept.id != mistaken.id
