"""SQL of each side's stance on a link between installs (``ledger.federation.link_peer``)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ledger.federation.link_peer import Stance
from ledger.store.scoped import ScopedStore
from ledger.store.tables import federation_link_stances

_s = federation_link_stances


class SqlLinkStances(ScopedStore):
    async def stance(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Stance:
        row = (
            await self._conn.execute(
                sa.select(_s).where(_s.c.community_id == community_id, _s.c.link_id == link_id)
            )
        ).first()
        if row is None:
            return Stance()
        return Stance(row.sent_seq, row.partner_seq, row.partner_suspended)

    async def save(self, community_id: uuid.UUID, link_id: uuid.UUID, stance: Stance) -> None:
        """Stores the stance (the caller holds the link's row lock, so no one races it)."""
        where = sa.and_(_s.c.community_id == community_id, _s.c.link_id == link_id)
        values = {
            "sent_seq": stance.sent_seq,
            "partner_seq": stance.partner_seq,
            "partner_suspended": stance.partner_suspended,
        }
        changed = await self._conn.execute(_s.update().where(where).values(**values))
        if changed.rowcount == 0:
            await self._conn.execute(
                _s.insert().values(community_id=community_id, link_id=link_id, **values)
            )
