"""The time bank's read-side SQL for the sustainability report: members' confirmed exchanges in
a period, who exchanged before it, and the exchanges per service category.

Runs on the connection of one read unit of work, like every report query (one snapshot).
Amounts are minutes (the HOURS commodity's smallest unit). An exchange is confirmed when its
entry (kind ``exchange``) is posted and not undone by a posted reversal dated by the period's end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.store.tables import entries, members, postings, reversed_by

EXCHANGE_KIND = "exchange"


@dataclass(frozen=True, slots=True)
class MemberExchanges:
    """A member's confirmed exchanges in a period: minutes given and received, and how many
    exchanges they took part in."""

    given_minutes: int
    received_minutes: int
    exchanges: int


@dataclass(frozen=True, slots=True)
class CategoryExchanges:
    category: str | None
    exchanges: int
    minutes: int


@dataclass(frozen=True, slots=True)
class ExchangeFigures:
    in_period: dict[uuid.UUID, MemberExchanges]
    """Per HOURS account, its confirmed exchanges dated in the period."""
    before: set[uuid.UUID]
    """The members' HOURS accounts with a confirmed exchange dated before the period."""
    categories: list[CategoryExchanges]
    """Per service category (``None``: none given), by minutes then name."""


async def exchanges(
    conn: AsyncConnection, community_id: uuid.UUID, start: date, end: date
) -> ExchangeFigures:
    """The confirmed exchanges' figures: per account, those dated ``start``–``end`` (credits are
    minutes given, debits minutes received); which members' accounts have one dated before
    ``start``; per category, the exchanges dated ``start``–``end`` and their minutes (their
    debit side).

    One pass over the period's exchange postings grouped by account and category gives all the
    sums; the number of exchanges per category is counted on the entries alone, which is exact
    for any entry of kind ``exchange`` (a balanced entry always has a debit posting, dated as its
    entry), where counting distinct entries over the postings cost a sort of every one of them.
    Whether a member exchanged before the period is one probe of their account's postings in
    date order, which stops at the first confirmed exchange: the history before the period is
    not read through."""
    totals, minutes = await _sums_per_account(conn, community_id, start, end)
    before = await _exchanged_before(conn, community_id, start, end)
    e = entries.c
    category = _category()
    counts = await conn.execute(
        sa.select(category, sa.func.count())
        .where(_confirmed_exchanges(community_id, end), e.effective_date.between(start, end))
        .group_by(category)
    )
    categories = [CategoryExchanges(row[0], int(row[1]), minutes.get(row[0], 0)) for row in counts]
    return ExchangeFigures(
        in_period={account: MemberExchanges(*total) for account, total in totals.items()},
        before=before,
        categories=sorted(categories, key=lambda c: (-c.minutes, c.category or "")),
    )


def _category() -> sa.ColumnElement[Any]:
    """An exchange's service category: its entry's ``metadata.category``."""
    category: sa.ColumnElement[Any] = entries.c.metadata["category"].as_string()
    return category


def _exchange_postings() -> sa.Join:
    p, e = postings.c, entries.c
    return postings.join(entries, (e.community_id == p.community_id) & (e.id == p.entry_id))


async def _sums_per_account(
    conn: AsyncConnection, community_id: uuid.UUID, start: date, end: date
) -> tuple[dict[uuid.UUID, list[int]], dict[str | None, int]]:
    """Per account, [minutes given, minutes received, exchanges] dated ``start``–``end``; per
    category, the minutes exchanged (the debit side)."""
    p, e = postings.c, entries.c
    category = _category()
    sums = (
        sa.select(
            p.account_id,
            category,
            sa.func.sum(sa.case((p.amount < 0, -p.amount), else_=0)),
            sa.func.sum(sa.case((p.amount > 0, p.amount), else_=0)),
            # An exchange has one posting per member account: rows count exchanges.
            sa.func.count(),
        )
        .select_from(_exchange_postings())
        .where(_confirmed_exchanges(community_id, end), e.effective_date.between(start, end))
        .group_by(p.account_id, category)
    )
    if conn.dialect.name == "postgresql":
        # The posting's own copy of its entry's date: PostgreSQL hashes the period's postings,
        # read through the index by date, not the whole history's. SQLite goes from each entry
        # of the period to its postings, twice as fast as from the postings of the range.
        sums = sums.where(p.effective_date.between(start, end))
    totals: dict[uuid.UUID, list[int]] = {}
    minutes: dict[str | None, int] = {}
    for row in await conn.execute(sums):
        total = totals.setdefault(row[0], [0, 0, 0])
        total[0] += int(row[2])
        total[1] += int(row[3])
        total[2] += int(row[4])
        minutes[row[1]] = minutes.get(row[1], 0) + int(row[3])
    return totals, minutes


async def _exchanged_before(
    conn: AsyncConnection, community_id: uuid.UUID, start: date, end: date
) -> set[uuid.UUID]:
    """The members' HOURS accounts with a confirmed exchange dated before ``start``: one probe
    per member that stops at the first."""
    p, e, m = postings.c, entries.c, members.c
    earlier = (
        sa.select(sa.literal(1))
        .select_from(_exchange_postings())
        .where(
            p.community_id == m.community_id,
            p.account_id == m.hours_account_id,
            p.effective_date < start,
            e.effective_date < start,
            _confirmed_exchanges(community_id, end),
        )
        .limit(1)
        .scalar_subquery()
    )
    probed = await conn.execute(
        sa.select(m.hours_account_id, earlier).where(m.community_id == community_id)
    )
    return {row[0] for row in probed if row[1] is not None}


def _confirmed_exchanges(community_id: uuid.UUID, end: date) -> sa.ColumnElement[bool]:
    """Posted exchange entries not undone by a reversal dated on or before ``end``."""
    e = entries.c
    return sa.and_(
        e.community_id == community_id,
        e.kind == EXCHANGE_KIND,
        e.status == "posted",
        ~reversed_by(end),
    )
