"""The sustainability report's read-side SQL: every figure is a GROUP BY over postings, so a
report over a year of a large community reads aggregates, never individual postings.

Every function takes the connection of one read unit of work, so a whole report sees one
snapshot (REPEATABLE READ on PostgreSQL, a deferred transaction on SQLite). Amounts are integers
in each commodity's smallest unit (minutes for HOURS). Only ``posted`` entries count as actuals;
``pending`` ones are aggregated apart; ``voided`` ones never count.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.store.tables import (
    account_designations,
    accounts,
    commodities,
    entries,
    funds,
    members,
    postings,
    postings_by_account,
)

EXCHANGE_KIND = "exchange"


class HasConnection(Protocol):
    @property
    def connection(self) -> AsyncConnection: ...


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: uuid.UUID
    code: str
    name: str
    type: str
    commodity: str
    member_id: uuid.UUID | None
    balance_min: int | None
    """Normal-direction floor, smallest unit; ``None`` when unlimited."""
    designation: str | None = None
    """The part a chart template designated it for (``ledger.economy.chart.Designation``), if
    any."""


@dataclass(frozen=True, slots=True)
class FundRow:
    name: str
    account_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Movement:
    """An account's debits and credits over a period, both ≥ 0, smallest unit."""

    debits: int
    credits: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: uuid.UUID
    name: str
    hours_account_id: uuid.UUID
    created_on: date


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
class CommodityRow:
    code: str
    name: str
    scale: int
    """Decimal places of the unit: 2 for cents; HOURS counts minutes whatever its scale."""


async def list_commodities(conn: AsyncConnection, community_id: uuid.UUID) -> list[CommodityRow]:
    c = commodities.c
    rows = await conn.execute(
        sa.select(c.code, c.name, c.scale).where(c.community_id == community_id).order_by(c.code)
    )
    return [CommodityRow(*row) for row in rows]


async def list_accounts(conn: AsyncConnection, community_id: uuid.UUID) -> list[AccountRow]:
    a, d = accounts.c, account_designations.c
    joined = accounts.outerjoin(
        account_designations, sa.and_(d.community_id == a.community_id, d.account_id == a.id)
    )
    rows = await conn.execute(
        sa.select(
            a.id, a.code, a.name, a.type, a.commodity, a.member_id, a.balance_min, d.designation
        )
        .select_from(joined)
        .where(a.community_id == community_id)
        .order_by(a.commodity, a.code)
    )
    return [AccountRow(*row) for row in rows]


async def list_funds(conn: AsyncConnection, community_id: uuid.UUID) -> list[FundRow]:
    """The restricted funds, in the order they were created."""
    f = funds.c
    rows = await conn.execute(
        sa.select(f.name, f.account_id).where(f.community_id == community_id).order_by(f.id)
    )
    return [FundRow(*row) for row in rows]


async def list_members(conn: AsyncConnection, community_id: uuid.UUID) -> list[MemberRow]:
    m = members.c
    rows = await conn.execute(
        sa.select(m.id, m.name, m.hours_account_id, m.created_at)
        .where(m.community_id == community_id)
        .order_by(m.name, m.id)
    )
    return [MemberRow(row.id, row.name, row.hours_account_id, _day(row.created_at)) for row in rows]


def _day(moment: datetime) -> date:
    return moment.date()


@dataclass(frozen=True, slots=True)
class Window:
    """Entries of ``status`` dated ``start``–``end`` (from the beginning when ``start`` is
    ``None``)."""

    start: date | None
    end: date
    status: str = "posted"


async def movements(
    conn: AsyncConnection,
    community_id: uuid.UUID,
    windows: Mapping[str, Window],
    from_counters: bool | None = None,
) -> dict[str, dict[uuid.UUID, Movement]]:
    """Per window and account, the debits and credits of the window's entries — every window in
    one pass over the community's postings (conditional sums), not one scan per window.

    The pass reads postings alone (they carry their entry's date), whatever the entries'
    status; a second, small query sums the postings of the entries that are not posted (a
    partial index finds them), per status. A posted window is the first less the second; a
    pending one is the second's. Joining every posting to its entry for the status cost more
    than the rest of the pass.

    A window open at its start (everything up to a date) is read from whichever end of the
    history is nearer: summed from the first posting, or the accounts' maintained counters less
    the postings dated after it. The pass then reads the postings from the earliest date any
    window needs onwards, so a report of a recent period never reads the history before its
    windows. Both ways are exact: the counters are kept equal to the sums of the postings by
    status in the transaction that changes them. ``from_counters`` forces a way (for tests);
    ``None`` chooses the nearer end."""
    p, e = postings.c, entries.c
    names = list(windows)
    end = max(w.end for w in windows.values())
    since = min(w.end + timedelta(days=1) if w.start is None else w.start for w in windows.values())
    span = await _postings_span(conn, community_id)
    if span is None:
        return {name: {} for name in names}
    # Counters exist for posted and pending sums only.
    countable = all(w.status in {"posted", "pending"} for w in windows.values() if w.start is None)
    nearer_the_end = (span[1] - since) < (end - span[0])
    backward = countable and (nearer_the_end if from_counters is None else from_counters)
    columns: list[sa.ColumnElement[Any]] = []
    for name in names:
        window = windows[name]
        if backward and window.start is None:
            inside = p.effective_date > window.end  # taken away from the counters below
        else:
            inside = sa.and_(
                p.effective_date <= window.end,
                *([p.effective_date >= window.start] if window.start is not None else []),
            )
        columns += [
            sa.func.sum(sa.case((inside & (p.amount > 0), p.amount), else_=0)),
            sa.func.sum(sa.case((inside & (p.amount < 0), -p.amount), else_=0)),
        ]
    read = p.effective_date >= since if backward else p.effective_date <= end
    every = await conn.execute(
        sa.select(p.account_id, *columns)
        .where(p.community_id == community_id, read)
        .group_by(postings_by_account(conn.dialect.name))
    )
    # A literal, not a parameter: only then may PostgreSQL use the partial index.
    not_posted = e.status != sa.literal_column("'posted'")
    unposted = await conn.execute(
        sa.select(p.account_id, e.status, *columns)
        .select_from(
            entries.join(postings, (p.community_id == e.community_id) & (p.entry_id == e.id))
        )
        .where(e.community_id == community_id, not_posted, read)
        .group_by(p.account_id, e.status)
    )
    totals: dict[uuid.UUID, list[int]] = {row[0]: [int(v) for v in row[1:]] for row in every}
    by_status: dict[str, dict[uuid.UUID, list[int]]] = {}
    for row in unposted:
        sums = [int(v) for v in row[2:]]
        by_status.setdefault(row[1], {})[row[0]] = sums
        posted = totals[row[0]]
        for index, value in enumerate(sums):
            posted[index] -= value
    if backward:
        await _from_counters(conn, community_id, windows, totals, by_status)
    found: dict[str, dict[uuid.UUID, Movement]] = {name: {} for name in names}
    for index, name in enumerate(names):
        status = windows[name].status
        source = totals if status == "posted" else by_status.get(status, {})
        for account_id, sums in source.items():
            debits, credits = sums[2 * index], sums[2 * index + 1]
            if debits or credits:
                found[name][account_id] = Movement(debits, credits)
    return found


async def _postings_span(
    conn: AsyncConnection, community_id: uuid.UUID
) -> tuple[date, date] | None:
    """The first and last effective dates of the community's postings (two probes of an index
    by date), or None when it has none."""
    p = postings.c
    first = sa.select(sa.func.min(p.effective_date)).where(p.community_id == community_id)
    last = sa.select(sa.func.max(p.effective_date)).where(p.community_id == community_id)
    row = (await conn.execute(sa.select(first.scalar_subquery(), last.scalar_subquery()))).one()
    return None if row[0] is None else (row[0], row[1])


async def _from_counters(
    conn: AsyncConnection,
    community_id: uuid.UUID,
    windows: Mapping[str, Window],
    totals: dict[uuid.UUID, list[int]],
    by_status: dict[str, dict[uuid.UUID, list[int]]],
) -> None:
    """Turns the sums of the open windows, which hold the postings dated after each window's
    end, into the counters less those: posted windows from ``debits_posted``/``credits_posted``,
    pending ones from the pending counters. Every account with counters gets its row."""
    a = accounts.c
    rows = await conn.execute(
        sa.select(
            a.id, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending
        ).where(a.community_id == community_id)
    )
    width = 2 * len(windows)
    pending = by_status.setdefault("pending", {})
    for account_id, debits_posted, credits_posted, debits_pending, credits_pending in rows:
        for index, window in enumerate(windows.values()):
            if window.start is not None:
                continue
            if window.status == "posted":
                sums, now = (
                    totals.setdefault(account_id, [0] * width),
                    (debits_posted, credits_posted),
                )
            elif window.status == "pending":
                sums, now = (
                    pending.setdefault(account_id, [0] * width),
                    (debits_pending, credits_pending),
                )
            else:
                continue  # ``movements`` reads such windows forwards
            sums[2 * index] = int(now[0]) - sums[2 * index]
            sums[2 * index + 1] = int(now[1]) - sums[2 * index + 1]


async def pending_entry_count(
    conn: AsyncConnection, community_id: uuid.UUID, start: date, end: date
) -> int:
    e = entries.c
    count = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(entries)
        .where(
            e.community_id == community_id,
            # Implied by the next, but said as a literal: then both engines read the few
            # unposted entries from their partial index instead of every entry.
            e.status != sa.literal_column("'posted'"),
            e.status == "pending",
            e.effective_date.between(start, end),
        )
    )
    return int(count or 0)


def _confirmed_exchanges(community_id: uuid.UUID, end: date) -> sa.ColumnElement[bool]:
    """Posted exchange entries not undone by a reversal dated on or before ``end``."""
    e = entries.c
    reversal = entries.alias("reversal")
    undone = sa.exists().where(
        reversal.c.community_id == e.community_id,
        reversal.c.reverses == e.id,
        # Implied by the equality, but said: PostgreSQL then reads the few reversals from the
        # unique index instead of hashing every entry.
        reversal.c.reverses.is_not(None),
        reversal.c.status == "posted",
        reversal.c.effective_date <= end,
    )
    return sa.and_(
        e.community_id == community_id, e.kind == EXCHANGE_KIND, e.status == "posted", ~undone
    )


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
    p, e, m = postings.c, entries.c, members.c
    category = e.metadata["category"].as_string()
    joined = postings.join(entries, (e.community_id == p.community_id) & (e.id == p.entry_id))
    sums = (
        sa.select(
            p.account_id,
            category,
            sa.func.sum(sa.case((p.amount < 0, -p.amount), else_=0)),
            sa.func.sum(sa.case((p.amount > 0, p.amount), else_=0)),
            # An exchange has one posting per member account: rows count exchanges.
            sa.func.count(),
        )
        .select_from(joined)
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
    earlier = (
        sa.select(sa.literal(1))
        .select_from(joined)
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
    before = {row[0] for row in probed if row[1] is not None}
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


async def fingerprint(conn: AsyncConnection, community_id: uuid.UUID) -> str:
    """SHA-256 (hex) of the community's ledger state: entries per status, the latest entry id
    (ids are time-ordered UUIDv7), the sums of the four balance counters over all accounts, and
    the numbers of accounts and members. Any new, completed or reversed entry, new account or new
    member changes it; the same state always gives the same fingerprint."""
    e, a, m = entries.c, accounts.c, members.c
    status_rows = await conn.execute(
        sa.select(e.status, sa.func.count())
        .where(e.community_id == community_id)
        .group_by(e.status)
    )
    by_status: dict[str, int] = {row[0]: int(row[1]) for row in status_rows}
    # PostgreSQL has no max(uuid): the newest id is the first in descending order.
    latest = await conn.scalar(
        sa.select(e.id).where(e.community_id == community_id).order_by(e.id.desc()).limit(1)
    )
    counters = (
        await conn.execute(
            sa.select(
                sa.func.count(),
                *(
                    sa.func.coalesce(sa.func.sum(column), 0)
                    for column in (
                        a.debits_posted,
                        a.credits_posted,
                        a.debits_pending,
                        a.credits_pending,
                    )
                ),
            ).where(a.community_id == community_id)
        )
    ).one()
    member_count = await conn.scalar(
        sa.select(sa.func.count()).select_from(members).where(m.community_id == community_id)
    )
    parts = [
        "v1",
        *(f"{s}={int(by_status.get(s, 0))}" for s in ("pending", "posted", "voided")),
        f"latest={latest}",
        "accounts={}|dp={}|cp={}|dpe={}|cpe={}".format(*(int(v) for v in counters)),
        f"members={int(member_count or 0)}",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
