"""Federation's read-side SQL for the sustainability report: this community's links with their
terms, and the cross transfers of a period per link and per category.

Runs on the connection of one read unit of work, like every report query (one snapshot). The
links come back as the domain's ``Link`` values, so that which terms hold is decided by the one
rule (``ledger.federation.terms``), not a second copy of it here."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.federation.model import CommodityTerms, Link, LinkStatus, Partner, Rate, TermsVersion
from ledger.federation.protocol import TRANSFER_KIND
from ledger.store.tables import (
    entries,
    federation_link_terms,
    federation_link_versions,
    federation_links,
    federation_transfers,
    postings,
)


@dataclass(frozen=True, slots=True)
class Crossed:
    """Committed cross transfers over one link in one of this side's commodities, in a period:
    out (this community paid) and in (it was paid), counts and amounts in this side's units."""

    out_count: int = 0
    out_amount: int = 0
    in_count: int = 0
    in_amount: int = 0


@dataclass(frozen=True, slots=True)
class CategoryCrossed:
    category: str | None
    commodity: str
    transfers: int
    amount: int


async def links(conn: AsyncConnection, community_id: uuid.UUID) -> list[Link]:
    """Every link of the community, as this side sees it, oldest first (closed ones too)."""
    rows = (
        await conn.execute(
            sa.select(federation_links)
            .where(federation_links.c.community_id == community_id)
            .order_by(federation_links.c.created_at, federation_links.c.id)
        )
    ).all()
    versions = await _versions(conn, community_id)
    return [
        Link(
            community_id=community_id,
            id=row.id,
            partner=Partner(row.partner_slug, row.partner_name, row.partner_community_id),
            proposed_here=row.proposed_here,
            status=LinkStatus(row.status),
            suspended_here=row.suspended_here,
            created_at=row.created_at,
            updated_at=row.updated_at,
            versions=tuple(versions[row.id]),
        )
        for row in rows
    ]


async def _versions(
    conn: AsyncConnection, community_id: uuid.UUID
) -> dict[uuid.UUID, list[TermsVersion]]:
    v, t = federation_link_versions.c, federation_link_terms.c
    terms: dict[tuple[uuid.UUID, int], list[CommodityTerms]] = defaultdict(list)
    for row in await conn.execute(
        sa.select(federation_link_terms)
        .where(t.community_id == community_id)
        .order_by(t.link_id, t.version, t.commodity)
    ):
        terms[(row.link_id, row.version)].append(
            CommodityTerms(
                row.commodity,
                row.partner_commodity,
                Rate(row.rate_numerator, row.rate_denominator),
                row.limit_we_owe,
                row.limit_they_owe,
                row.clearing_account_id,
            )
        )
    found: dict[uuid.UUID, list[TermsVersion]] = defaultdict(list)
    for row in await conn.execute(
        sa.select(federation_link_versions)
        .where(v.community_id == community_id)
        .order_by(v.link_id, v.version)
    ):
        found[row.link_id].append(
            TermsVersion(
                row.version,
                tuple(terms[(row.link_id, row.version)]),
                row.hold_window_s,
                row.proposed_here,
                row.proposed_at,
                row.adopted_here_at,
                row.adopted_there_at,
            )
        )
    return found


async def crossed(
    conn: AsyncConnection, community_id: uuid.UUID, start: date, end: date
) -> dict[tuple[uuid.UUID, str], Crossed]:
    """Per (link, this side's commodity), the committed cross transfers whose entry here is
    dated ``start``–``end``. As payer this side's units are the amount sent, as payee the
    amount received; a hub's forwarded hop counts on each of its two links."""
    f, e = federation_transfers.c, entries.c
    payer = f.role == "payer"
    commodity = sa.case((payer, f.commodity_sent), else_=f.commodity_received)
    amount = sa.case((payer, f.amount_sent), else_=f.amount_received)
    query = (
        sa.select(f.link_id, commodity, f.role, sa.func.count(), sa.func.sum(amount))
        .select_from(
            federation_transfers.join(
                entries, (e.community_id == f.community_id) & (e.id == f.entry_id)
            )
        )
        .where(
            f.community_id == community_id,
            f.state == "committed",
            e.status == "posted",
            e.effective_date.between(start, end),
        )
        .group_by(f.link_id, commodity, f.role)
    )
    sums: dict[tuple[uuid.UUID, str], dict[str, tuple[int, int]]] = defaultdict(dict)
    for link_id, code, role, count, total in await conn.execute(query):
        sums[(link_id, code)][role] = (int(count), int(total or 0))
    return {
        key: Crossed(*by_role.get("payer", (0, 0)), *by_role.get("payee", (0, 0)))
        for key, by_role in sums.items()
    }


async def by_category(
    conn: AsyncConnection, community_id: uuid.UUID, start: date, end: date
) -> list[CategoryCrossed]:
    """Per category (the entry's ``metadata.category``; ``None``: none given) and commodity,
    the posted cross-transfer entries dated ``start``–``end`` and the amount they moved (their
    debits). Cross time-bank exchanges move their hours by a cross transfer, so they count here
    once their category reaches the entry's metadata."""
    p, e = postings.c, entries.c
    category: sa.ColumnElement[Any] = e.metadata["category"].as_string()
    moved = sa.func.sum(sa.case((p.amount > 0, p.amount), else_=0))
    query = (
        sa.select(category, p.commodity, sa.func.count(sa.distinct(e.id)), moved)
        .select_from(
            postings.join(entries, (e.community_id == p.community_id) & (e.id == p.entry_id))
        )
        .where(
            e.community_id == community_id,
            e.kind == TRANSFER_KIND,
            e.status == "posted",
            e.effective_date.between(start, end),
        )
        .group_by(category, p.commodity)
    )
    found = [
        CategoryCrossed(row[0], row[1], int(row[2]), int(row[3] or 0))
        for row in await conn.execute(query)
    ]
    return sorted(found, key=lambda c: (c.category or "", c.commodity))
