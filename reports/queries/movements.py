"""Per account, the debits and credits of the report's windows of entries — every window in one
pass over a community's postings.

Runs on the connection of one read unit of work, like every report query (one snapshot).
Amounts are integers in each commodity's smallest unit (minutes for HOURS). Only ``posted``
entries count as actuals; ``pending`` ones are summed apart; ``voided`` ones never count.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.store.tables import accounts, entries, postings, postings_by_account

Sums = dict[uuid.UUID, list[int]]
"""Per account, a debit and a credit sum per window, in the windows' order."""


@dataclass(frozen=True, slots=True)
class Movement:
    """An account's debits and credits over a period, both ≥ 0, smallest unit."""

    debits: int
    credits: int


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
    p = postings.c
    end = max(w.end for w in windows.values())
    since = min(w.end + timedelta(days=1) if w.start is None else w.start for w in windows.values())
    span = await _postings_span(conn, community_id)
    if span is None:
        return {name: {} for name in windows}
    # Counters exist for posted and pending sums only.
    countable = all(w.status in {"posted", "pending"} for w in windows.values() if w.start is None)
    nearer_the_end = (span[1] - since) < (end - span[0])
    backward = countable and (nearer_the_end if from_counters is None else from_counters)
    read = p.effective_date >= since if backward else p.effective_date <= end
    totals, by_status = await _sums_by_status(
        conn, community_id, _window_columns(windows, backward), read
    )
    if backward:
        await _from_counters(conn, community_id, windows, totals, by_status)
    return _by_window(windows, totals, by_status)


def _window_columns(windows: Mapping[str, Window], backward: bool) -> list[sa.ColumnElement[Any]]:
    """A debit and a credit sum per window. Read backward, a window open at its start sums the
    postings dated after its end, which ``_from_counters`` takes away from the counters."""
    p = postings.c
    columns: list[sa.ColumnElement[Any]] = []
    for window in windows.values():
        if backward and window.start is None:
            inside = p.effective_date > window.end  # taken away from the counters later
        else:
            inside = sa.and_(
                p.effective_date <= window.end,
                *([p.effective_date >= window.start] if window.start is not None else []),
            )
        columns += [
            sa.func.sum(sa.case((inside & (p.amount > 0), p.amount), else_=0)),
            sa.func.sum(sa.case((inside & (p.amount < 0), -p.amount), else_=0)),
        ]
    return columns


async def _sums_by_status(
    conn: AsyncConnection,
    community_id: uuid.UUID,
    columns: list[sa.ColumnElement[Any]],
    read: sa.ColumnElement[bool],
) -> tuple[Sums, dict[str, Sums]]:
    """The posted sums (every posting less those of unposted entries) and, per status other than
    posted, the unposted entries' sums."""
    p, e = postings.c, entries.c
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
    totals: Sums = {row[0]: [int(v) for v in row[1:]] for row in every}
    by_status: dict[str, Sums] = {}
    for row in unposted:
        sums = [int(v) for v in row[2:]]
        by_status.setdefault(row[1], {})[row[0]] = sums
        posted = totals[row[0]]
        for index, value in enumerate(sums):
            posted[index] -= value
    return totals, by_status


def _by_window(
    windows: Mapping[str, Window], totals: Sums, by_status: dict[str, Sums]
) -> dict[str, dict[uuid.UUID, Movement]]:
    """Each window's movements from the sums of its status; accounts that did not move left out."""
    found: dict[str, dict[uuid.UUID, Movement]] = {name: {} for name in windows}
    for index, (name, window) in enumerate(windows.items()):
        source = totals if window.status == "posted" else by_status.get(window.status, {})
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
    totals: Sums,
    by_status: dict[str, Sums],
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
