"""SQL of federation (``ledger.federation.ports.FederationStore``): links with their versions,
terms and consents here, transfers and journals in ``ledger.store.federation_transfers``.

A link's row lock (``FOR UPDATE``) serialises every transfer over it and every change of it on
PostgreSQL; SQLite's write transactions are serialised whole."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ledger.federation import errors
from ledger.federation.model import (
    CommodityTerms,
    Link,
    LinkStatus,
    Partner,
    Rate,
    TermsVersion,
    VersionConsent,
)
from ledger.store.federation_exchanges import SqlFederationExchanges
from ledger.store.federation_order import SqlFederationOrder
from ledger.store.federation_transfers import SqlFederationTransfers
from ledger.store.scoped import ScopedStore
from ledger.store.tables import (
    federation_link_terms,
    federation_link_versions,
    federation_links,
    federation_version_consents,
)
from ledger.store.unique import insert_unique

_l = federation_links
_v = federation_link_versions
_terms = federation_link_terms
_c = federation_version_consents


class SqlFederationLinks(ScopedStore):
    async def insert_link(self, link: Link) -> None:
        # The unique indexes on open links decide between concurrent proposals (a check
        # before the insert let both pass); the community is checked by the caller.
        await insert_unique(
            self._conn,
            _l,
            {
                "community_id": link.community_id,
                "id": link.id,
                "partner_slug": link.partner.slug,
                "partner_name": link.partner.name,
                "partner_community_id": link.partner.community_id,
                "partner_node_url": link.partner.node_url,
                "partner_node_key": link.partner.node_key,
                "proposed_here": link.proposed_here,
                "status": link.status.value,
                "suspended_here": link.suspended_here,
                "created_at": link.created_at,
                "updated_at": link.updated_at,
            },
            errors.LinkExists(f"a link with {link.partner.slug} is open already"),
        )
        for version in link.versions:
            await self.insert_version(link.community_id, link.id, version)

    async def insert_version(
        self, community_id: uuid.UUID, link_id: uuid.UUID, version: TermsVersion
    ) -> None:
        await self._conn.execute(
            _v.insert().values(
                community_id=community_id,
                link_id=link_id,
                version=version.version,
                hold_window_s=version.hold_window_s,
                proposed_here=version.proposed_here,
                proposed_at=version.proposed_at,
                adopted_here_at=version.adopted_here_at,
                adopted_there_at=version.adopted_there_at,
            )
        )
        await self._conn.execute(
            _terms.insert(),
            [
                {
                    "community_id": community_id,
                    "link_id": link_id,
                    "version": version.version,
                    "commodity": t.commodity,
                    "partner_commodity": t.partner_commodity,
                    "rate_numerator": t.rate.numerator,
                    "rate_denominator": t.rate.denominator,
                    "limit_we_owe": t.limit_we_owe,
                    "limit_they_owe": t.limit_they_owe,
                    "clearing_account_id": t.clearing_account_id,
                }
                for t in version.commodities
            ],
        )

    async def get_link(
        self, community_id: uuid.UUID, link_id: uuid.UUID, *, lock: bool = False
    ) -> Link | None:
        query = sa.select(_l).where(_l.c.community_id == community_id, _l.c.id == link_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            return None
        return (await self._complete(community_id, [row]))[0]

    async def lock_link(self, community_id: uuid.UUID, link_id: uuid.UUID) -> bool:
        query = sa.select(_l.c.id).where(_l.c.community_id == community_id, _l.c.id == link_id)
        return (await self._conn.execute(query.with_for_update())).first() is not None

    async def list_links(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Link]:
        query = sa.select(_l).where(_l.c.community_id == community_id)
        if after is not None:
            query = query.where(_l.c.id > after)
        rows = list(await self._conn.execute(query.order_by(_l.c.id).limit(limit)))
        return await self._complete(community_id, rows)

    async def set_link_status(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        status: LinkStatus,
        *,
        suspended_here: bool,
        at: datetime,
    ) -> None:
        await self._conn.execute(
            _l.update()
            .where(_l.c.community_id == community_id, _l.c.id == link_id)
            .values(status=status.value, suspended_here=suspended_here, updated_at=at)
        )

    async def add_consent(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        version: int,
        member_id: uuid.UUID,
        at: datetime,
    ) -> None:
        await self._conn.execute(
            _c.insert().values(
                community_id=community_id,
                link_id=link_id,
                version=version,
                member_id=member_id,
                consented_at=at,
            )
        )

    async def mark_adopted(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        version: int,
        *,
        here: bool,
        at: datetime,
    ) -> None:
        column = _v.c.adopted_here_at if here else _v.c.adopted_there_at
        await self._conn.execute(
            _v.update()
            .where(_v.c.community_id == community_id, _v.c.link_id == link_id)
            .where(_v.c.version == version, column.is_(None))
            .values({column.name: at})
        )
        await self._conn.execute(
            _l.update()
            .where(_l.c.community_id == community_id, _l.c.id == link_id)
            .values(updated_at=at)
        )

    async def _complete(self, community_id: uuid.UUID, rows: Sequence[Any]) -> list[Link]:
        """The links of ``rows`` with their versions, terms and consents (three queries)."""
        if not rows:
            return []
        ids = [row.id for row in rows]
        terms: dict[tuple[uuid.UUID, int], list[CommodityTerms]] = defaultdict(list)
        scope = (_terms.c.community_id == community_id, _terms.c.link_id.in_(ids))
        for t in await self._conn.execute(
            sa.select(_terms).where(*scope).order_by(_terms.c.commodity)
        ):
            terms[(t.link_id, t.version)].append(
                CommodityTerms(
                    commodity=t.commodity,
                    partner_commodity=t.partner_commodity,
                    rate=Rate(t.rate_numerator, t.rate_denominator),
                    limit_we_owe=t.limit_we_owe,
                    limit_they_owe=t.limit_they_owe,
                    clearing_account_id=t.clearing_account_id,
                )
            )
        consents: dict[tuple[uuid.UUID, int], list[VersionConsent]] = defaultdict(list)
        query = sa.select(_c).where(_c.c.community_id == community_id, _c.c.link_id.in_(ids))
        for c in await self._conn.execute(query.order_by(_c.c.consented_at, _c.c.member_id)):
            consents[(c.link_id, c.version)].append(VersionConsent(c.member_id, c.consented_at))
        versions: dict[uuid.UUID, list[TermsVersion]] = defaultdict(list)
        query = sa.select(_v).where(_v.c.community_id == community_id, _v.c.link_id.in_(ids))
        for v in await self._conn.execute(query.order_by(_v.c.version)):
            key = (v.link_id, v.version)
            versions[v.link_id].append(
                TermsVersion(
                    version=v.version,
                    commodities=tuple(terms[key]),
                    hold_window_s=v.hold_window_s,
                    proposed_here=v.proposed_here,
                    proposed_at=v.proposed_at,
                    adopted_here_at=v.adopted_here_at,
                    adopted_there_at=v.adopted_there_at,
                    consents=tuple(consents[key]),
                )
            )
        return [_link_of(row, tuple(versions[row.id])) for row in rows]


def _link_of(row: Any, versions: tuple[TermsVersion, ...]) -> Link:
    return Link(
        community_id=row.community_id,
        id=row.id,
        partner=Partner(
            slug=row.partner_slug,
            name=row.partner_name,
            community_id=row.partner_community_id,
            node_url=row.partner_node_url,
            node_key=row.partner_node_key,
        ),
        proposed_here=row.proposed_here,
        status=LinkStatus(row.status),
        suspended_here=row.suspended_here,
        created_at=row.created_at,
        updated_at=row.updated_at,
        versions=versions,
    )


class SqlFederationStore(
    SqlFederationLinks, SqlFederationTransfers, SqlFederationExchanges, SqlFederationOrder
):
    """Every method of ``FederationStore`` (``SqlFederationStore.of(uow)``)."""
