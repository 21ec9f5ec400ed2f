"""Pure builder of the time-bank health section from per-member exchange aggregates."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from reports.financial import Movements, normal_amount
from reports.period import Period
from reports.queries.figures import AccountRow, MemberRow
from reports.queries.movements import Movement
from reports.queries.timebank import CategoryExchanges, MemberExchanges
from reports.ratios import gini, ratio, top_share
from reports.values import CategoryMinutes, MemberMinutes, SupportWatch, TimeBank

UNCATEGORISED = "(no category)"


@dataclass(frozen=True, slots=True)
class Thresholds:
    burnout_minutes: int = 40 * 60
    """A member who gave more than this in the period is on the burnout watch."""
    support_watch_percent: int = 80
    """A member whose negative balance has used at least this share of their negative limit is
    on the support watch."""


@dataclass(frozen=True, slots=True)
class TimeBankFigures:
    """What the queries return for the time-bank section."""

    members: list[MemberRow]
    accounts: list[AccountRow]
    exchanges: Mapping[uuid.UUID, MemberExchanges]
    """Per HOURS account, confirmed exchanges in the period."""
    exchanged_before: set[uuid.UUID]
    """HOURS accounts with a confirmed exchange before the period."""
    categories: list[CategoryExchanges]
    to_date: Movements


def _near_limit(balance: int, balance_min: int | None, percent: int) -> bool:
    if balance_min is None or balance_min >= 0:
        return False
    # balance / balance_min >= percent / 100, both negative: compare without division.
    return balance <= 0 and balance * 100 <= balance_min * percent


def time_bank(period: Period, figures: TimeBankFigures, thresholds: Thresholds) -> TimeBank:
    none = MemberExchanges(0, 0, 0)
    # A member counts once they joined, or once they exchanged: books are often entered later
    # than the help they record.
    existing = [
        m
        for m in figures.members
        if m.created_on <= period.end
        or m.hours_account_id in figures.exchanged_before
        or figures.exchanges.get(m.hours_account_id, none).exchanges
    ]
    account_of = {a.id: a for a in figures.accounts}
    flows = {m.id: figures.exchanges.get(m.hours_account_id, none) for m in existing}
    active = [m for m in existing if flows[m.id].exchanges > 0]
    given = sorted(
        (MemberMinutes(m.id, m.name, flows[m.id].given_minutes) for m in existing),
        key=lambda g: (-g.minutes, g.name),
    )
    top_count, top = top_share([g.minutes for g in given])
    support = []
    for member in existing:
        account = account_of[member.hours_account_id]
        balance = normal_amount(account, figures.to_date.get(account.id, Movement(0, 0)))
        if _near_limit(balance, account.balance_min, thresholds.support_watch_percent):
            assert account.balance_min is not None
            support.append(SupportWatch(member.id, member.name, balance, account.balance_min))
    reciprocal = sum(1 for f in flows.values() if f.given_minutes and f.received_minutes)
    exchanges = sum(c.exchanges for c in figures.categories)
    return TimeBank(
        exchanges=exchanges,
        minutes_exchanged=sum(c.minutes for c in figures.categories),
        members=len(existing),
        active_members=len(active),
        participation_rate=ratio(len(active), len(existing)),
        new_members=sum(1 for m in existing if m.created_on >= period.start),
        dormant_members=sum(
            1
            for m in existing
            if m.hours_account_id in figures.exchanged_before and not flows[m.id].exchanges
        ),
        reciprocal_members=reciprocal,
        reciprocity_rate=ratio(reciprocal, len(active)),
        gini_given=gini([g.minutes for g in given]),
        top_decile_givers=top_count,
        top_decile_share=top,
        burnout_watch_minutes=thresholds.burnout_minutes,
        burnout_watch=tuple(g for g in given if g.minutes > thresholds.burnout_minutes),
        support_watch_percent=thresholds.support_watch_percent,
        support_watch=tuple(sorted(support, key=lambda s: (s.balance, s.name))),
        given=tuple(given),
        by_category=tuple(
            CategoryMinutes(c.category or UNCATEGORISED, c.exchanges, c.minutes)
            for c in figures.categories
        ),
    )
