"""The member page's figures on both engines: a month counts confirmed exchanges by their
effective date; the directory lists every member by name."""

from __future__ import annotations

from datetime import date, timedelta

from ledger.books.service import Ledger
from ledger.kernel.model import Community, Member, NewEntry, PostingSpec
from ledger.timebank.exchanges import EXCHANGE_KIND, Exchanges
from ledger.timebank.member_overview import CommunityMonth, MemberMonth, MemberOverview


def _help(giver: Member, receiver: Member, minutes: int, day: date, *, pending: bool) -> NewEntry:
    return NewEntry(
        (
            PostingSpec(receiver.hours_account_id, minutes),
            PostingSpec(giver.hours_account_id, -minutes),
        ),
        description="help",
        pending=pending,
        effective_date=day,
        kind=EXCHANGE_KIND,
        metadata={
            "provider_member_id": str(giver.id),
            "receiver_member_id": str(receiver.id),
            "category": None,
        },
    )


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
