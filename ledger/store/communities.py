"""SQL of communities, their commodities and their members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.kernel import errors
from ledger.kernel.model import Commodity, Community, Member
from ledger.store.tables import commodities, communities, members
from ledger.store.unique import insert_unique


class SqlCommunities:
    """Communities, commodities and members over one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def insert_community(self, community: Community) -> None:
        values = {
            "id": community.id,
            "slug": community.slug,
            "name": community.name,
            "created_at": community.created_at,
        }
        await insert_unique(
            self._conn,
            communities,
            values,
            errors.CommunityExists(f"slug {community.slug!r} is taken"),
        )

    async def get_community(self, community_id: uuid.UUID) -> Community | None:
        row = (
            await self._conn.execute(sa.select(communities).where(communities.c.id == community_id))
        ).first()
        return None if row is None else Community(row.id, row.slug, row.name, row.created_at)

    async def get_community_by_slug(self, slug: str) -> Community | None:
        row = (
            await self._conn.execute(sa.select(communities).where(communities.c.slug == slug))
        ).first()
        return None if row is None else Community(row.id, row.slug, row.name, row.created_at)

    async def insert_commodity(self, commodity: Commodity) -> None:
        values = {
            "community_id": commodity.community_id,
            "code": commodity.code,
            "name": commodity.name,
            "scale": commodity.scale,
        }
        await insert_unique(
            self._conn,
            commodities,
            values,
            errors.CommodityExists(f"commodity {commodity.code!r} exists"),
        )

    async def get_commodity(self, community_id: uuid.UUID, code: str) -> Commodity | None:
        row = (
            await self._conn.execute(
                sa.select(commodities).where(
                    commodities.c.community_id == community_id, commodities.c.code == code
                )
            )
        ).first()
        return None if row is None else Commodity(row.community_id, row.code, row.name, row.scale)

    async def list_commodities(self, community_id: uuid.UUID) -> Sequence[Commodity]:
        rows = await self._conn.execute(
            sa.select(commodities)
            .where(commodities.c.community_id == community_id)
            .order_by(commodities.c.code)
        )
        return [Commodity(r.community_id, r.code, r.name, r.scale) for r in rows]

    async def insert_member(self, member: Member) -> None:
        await self._conn.execute(
            members.insert().values(
                community_id=member.community_id,
                id=member.id,
                name=member.name,
                hours_account_id=member.hours_account_id,
                created_at=member.created_at,
            )
        )

    async def get_member(self, community_id: uuid.UUID, member_id: uuid.UUID) -> Member | None:
        row = (
            await self._conn.execute(
                sa.select(members).where(
                    members.c.community_id == community_id, members.c.id == member_id
                )
            )
        ).first()
        if row is None:
            return None
        return Member(row.community_id, row.id, row.name, row.hours_account_id, row.created_at)

    async def list_members(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Member]:
        query = sa.select(members).where(members.c.community_id == community_id)
        if after is not None:
            query = query.where(members.c.id > after)
        rows = await self._conn.execute(query.order_by(members.c.id).limit(limit))
        return [
            Member(row.community_id, row.id, row.name, row.hours_account_id, row.created_at)
            for row in rows
        ]
