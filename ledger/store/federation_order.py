"""SQL of a link's journal order between installs and its kept checkpoints
(``ledger.federation.ports.FederationStore``; ``ledger.federation.sequencing``,
``ledger.federation.checkpoints``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ledger.federation.journal import Checkpoint, Exchanged, Held
from ledger.store.scoped import ScopedStore
from ledger.store.tables import federation_checkpoints, federation_journal, federation_journal_held

_h = federation_journal_held
_c = federation_checkpoints
_j = federation_journal


def _held_of(row: Any) -> Held:
    return Held(
        link_id=row.link_id,
        transfer_id=row.transfer_id,
        seq=row.seq,
        from_proposer=row.from_proposer,
        sent=(row.commodity_sent, row.amount_sent),
        received=(row.commodity_received, row.amount_received),
    )


def _exchanged_of(row: Any) -> Exchanged:
    return Exchanged(
        ours=Checkpoint(
            row.link_id, row.seq, row.hash, dict(row.balances), dict(row.partner_balances)
        ),
        partner_hash=row.partner_hash,
        partner_signed=row.partner_signed,
        agrees=row.agrees,
        recorded_at=row.recorded_at,
    )


class SqlFederationOrder(ScopedStore):
    async def journal_seq(
        self, community_id: uuid.UUID, link_id: uuid.UUID, transfer_id: uuid.UUID
    ) -> int | None:
        query = sa.select(_j.c.seq).where(
            _j.c.community_id == community_id,
            _j.c.link_id == link_id,
            _j.c.transfer_id == transfer_id,
        )
        seq: int | None = (await self._conn.execute(query)).scalar()
        return seq

    async def hold(self, community_id: uuid.UUID, held: Held, at: datetime) -> None:
        await self._conn.execute(
            _h.insert().values(
                community_id=community_id,
                link_id=held.link_id,
                transfer_id=held.transfer_id,
                seq=held.seq,
                from_proposer=held.from_proposer,
                commodity_sent=held.sent[0],
                amount_sent=held.sent[1],
                commodity_received=held.received[0],
                amount_received=held.received[1],
                held_at=at,
            )
        )

    async def held(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        *,
        transfer_id: uuid.UUID | None = None,
        seq: int | None = None,
    ) -> Held | None:
        query = sa.select(_h).where(_h.c.community_id == community_id, _h.c.link_id == link_id)
        if transfer_id is not None:
            query = query.where(_h.c.transfer_id == transfer_id)
        if seq is not None:
            query = query.where(_h.c.seq == seq)
        row = (await self._conn.execute(query)).first()
        return None if row is None else _held_of(row)

    async def held_movements(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Sequence[Held]:
        query = (
            sa.select(_h)
            .where(_h.c.community_id == community_id, _h.c.link_id == link_id)
            .order_by(_h.c.seq.is_(None), _h.c.seq, _h.c.held_at)
        )
        return [_held_of(row) for row in await self._conn.execute(query)]

    async def give_seq(
        self, community_id: uuid.UUID, link_id: uuid.UUID, transfer_id: uuid.UUID, seq: int
    ) -> None:
        await self._conn.execute(
            _h.update()
            .where(
                _h.c.community_id == community_id,
                _h.c.link_id == link_id,
                _h.c.transfer_id == transfer_id,
            )
            .values(seq=seq)
        )

    async def release(
        self, community_id: uuid.UUID, link_id: uuid.UUID, transfer_id: uuid.UUID
    ) -> None:
        await self._conn.execute(
            _h.delete().where(
                _h.c.community_id == community_id,
                _h.c.link_id == link_id,
                _h.c.transfer_id == transfer_id,
            )
        )

    async def keep_checkpoint(self, community_id: uuid.UUID, exchanged: Exchanged) -> None:
        ours = exchanged.ours
        key = (_c.c.community_id == community_id, _c.c.link_id == ours.link_id)
        await self._conn.execute(_c.delete().where(*key, _c.c.seq == ours.seq))
        await self._conn.execute(
            _c.insert().values(
                community_id=community_id,
                link_id=ours.link_id,
                seq=ours.seq,
                hash=ours.hash,
                balances=dict(ours.balances),
                partner_balances=dict(ours.partner_balances),
                partner_hash=exchanged.partner_hash,
                partner_signed=exchanged.partner_signed,
                agrees=exchanged.agrees,
                recorded_at=exchanged.recorded_at,
            )
        )

    async def checkpoints(
        self, community_id: uuid.UUID, link_id: uuid.UUID, *, upto: int, agreed: bool = False
    ) -> Sequence[Exchanged]:
        query = sa.select(_c).where(
            _c.c.community_id == community_id, _c.c.link_id == link_id, _c.c.seq <= upto
        )
        if agreed:
            query = query.where(_c.c.agrees.is_(True))
        rows = await self._conn.execute(query.order_by(_c.c.seq.desc()).limit(10))
        return [_exchanged_of(row) for row in rows]
