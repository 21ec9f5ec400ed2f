"""The sustainability report's read-side SQL for the community's chart, members and funds, its
pending entries and its fingerprint. The heavy figures are GROUP BYs over postings beside it
(``movements``, ``timebank``), so a report over a year of a large community reads aggregates,
never individual postings.

Every function takes the connection of one read unit of work, so a whole report sees one
snapshot (REPEATABLE READ on PostgreSQL, a deferred transaction on SQLite). Amounts are integers
in each commodity's smallest unit (minutes for HOURS). Only ``posted`` entries count as actuals;
``pending`` ones are aggregated apart; ``voided`` ones never count.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.store.tables import (
    account_designations,
    accounts,
    commodities,
    entries,
    funds,
    members,
)


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
class MemberRow:
    id: uuid.UUID
    name: str
    hours_account_id: uuid.UUID
    created_on: date


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
