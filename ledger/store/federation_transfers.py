"""SQL of cross transfers and link journals (``ledger.federation.ports.FederationStore``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ledger.federation.journal import Movement
from ledger.federation.model import Quote, Rate, Transfer, TransferRole, TransferState
from ledger.store.scoped import ScopedStore
from ledger.store.tables import federation_journal, federation_transfers

_t = federation_transfers
_j = federation_journal


def _quote_values(quote: Quote | None) -> dict[str, Any]:
    if quote is None:
        return {}
    return {
        "rate_version": quote.rate_version,
        "rate_numerator": quote.rate.numerator,
        "rate_denominator": quote.rate.denominator,
        "commodity_sent": quote.commodity_sent,
        "amount_sent": quote.amount_sent,
        "commodity_received": quote.commodity_received,
        "amount_received": quote.amount_received,
        "min_received": quote.min_received,
        "rounding": quote.rounding,
    }


def _transfer_of(row: Any) -> Transfer:
    quote = None
    if row.rate_version is not None:
        quote = Quote(
            rate_version=row.rate_version,
            rate=Rate(row.rate_numerator, row.rate_denominator),
            commodity_sent=row.commodity_sent,
            amount_sent=row.amount_sent,
            commodity_received=row.commodity_received,
            amount_received=row.amount_received,
            min_received=row.min_received,
            rounding=row.rounding,
        )
    return Transfer(
        community_id=row.community_id,
        id=row.id,
        link_id=row.link_id,
        role=TransferRole(row.role),
        state=TransferState(row.state),
        member_id=row.member_id,
        partner_member_id=row.partner_member_id,
        quote=quote,
        expires_at=row.expires_at,
        entry_id=row.entry_id,
        reason=row.reason,
        detail=row.detail,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
        destination=row.destination,
        upstream_id=row.upstream_id,
    )


def _movement_of(row: Any) -> Movement:
    return Movement(
        link_id=row.link_id,
        seq=row.seq,
        transfer_id=row.transfer_id,
        from_proposer=row.from_proposer,
        commodity_sent=row.commodity_sent,
        amount_sent=row.amount_sent,
        commodity_received=row.commodity_received,
        amount_received=row.amount_received,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class SqlFederationTransfers(ScopedStore):
    async def insert_transfer(self, transfer: Transfer) -> None:
        await self._conn.execute(
            _t.insert().values(
                community_id=transfer.community_id,
                id=transfer.id,
                link_id=transfer.link_id,
                role=transfer.role.value,
                state=transfer.state.value,
                member_id=transfer.member_id,
                partner_member_id=transfer.partner_member_id,
                expires_at=transfer.expires_at,
                entry_id=transfer.entry_id,
                reason=transfer.reason,
                detail=transfer.detail,
                description=transfer.description,
                destination=transfer.destination,
                upstream_id=transfer.upstream_id,
                created_at=transfer.created_at,
                updated_at=transfer.updated_at,
                **_quote_values(transfer.quote),
            )
        )

    async def get_transfer(
        self, community_id: uuid.UUID, transfer_id: uuid.UUID, *, lock: bool = False
    ) -> Transfer | None:
        query = sa.select(_t).where(_t.c.community_id == community_id, _t.c.id == transfer_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _transfer_of(row)

    async def update_transfer(self, transfer: Transfer) -> None:
        await self._conn.execute(
            _t.update()
            .where(_t.c.community_id == transfer.community_id, _t.c.id == transfer.id)
            .values(
                state=transfer.state.value,
                entry_id=transfer.entry_id,
                reason=transfer.reason,
                detail=transfer.detail,
                updated_at=transfer.updated_at,
            )
        )

    async def list_transfers(
        self,
        community_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
        member_id: uuid.UUID | None = None,
        link_id: uuid.UUID | None = None,
    ) -> Sequence[Transfer]:
        query = sa.select(_t).where(_t.c.community_id == community_id)
        if after is not None:
            query = query.where(_t.c.id > after)
        if member_id is not None:
            query = query.where(_t.c.member_id == member_id)
        if link_id is not None:
            query = query.where(_t.c.link_id == link_id)
        rows = await self._conn.execute(query.order_by(_t.c.id).limit(limit))
        return [_transfer_of(row) for row in rows]

    async def journal_head(
        self, community_id: uuid.UUID, link_id: uuid.UUID
    ) -> tuple[int, str] | None:
        query = (
            sa.select(_j.c.seq, _j.c.hash)
            .where(_j.c.community_id == community_id, _j.c.link_id == link_id)
            .order_by(_j.c.seq.desc())
            .limit(1)
        )
        row = (await self._conn.execute(query)).first()
        return None if row is None else (row.seq, row.hash)

    async def append_movement(
        self, community_id: uuid.UUID, movement: Movement, recorded_at: datetime
    ) -> None:
        await self._conn.execute(
            _j.insert().values(
                community_id=community_id,
                link_id=movement.link_id,
                seq=movement.seq,
                transfer_id=movement.transfer_id,
                from_proposer=movement.from_proposer,
                commodity_sent=movement.commodity_sent,
                amount_sent=movement.amount_sent,
                commodity_received=movement.commodity_received,
                amount_received=movement.amount_received,
                prev_hash=movement.prev_hash,
                hash=movement.hash,
                recorded_at=recorded_at,
            )
        )

    async def movements(
        self, community_id: uuid.UUID, link_id: uuid.UUID, *, after_seq: int, limit: int
    ) -> Sequence[Movement]:
        query = (
            sa.select(_j)
            .where(_j.c.community_id == community_id, _j.c.link_id == link_id)
            .where(_j.c.seq > after_seq)
            .order_by(_j.c.seq)
            .limit(limit)
        )
        return [_movement_of(row) for row in await self._conn.execute(query)]
