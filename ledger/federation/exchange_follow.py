"""A cross exchange between installs follows the cross transfer that moves its hours (the same
id): when this side's step of the transfer ends it — the payee side's decision or tombstone,
the payer side's settlement — this side's row of the exchange becomes ``confirmed`` (the hours
crossed) or ``refused`` (the transfer was rejected: the reason is the rejection's), in that
step's transaction. A transfer that is not an exchange's finds no row and changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ledger.audit import chain as audit
from ledger.federation.exchange_model import CrossStatus
from ledger.federation.model import Transfer, TransferState
from ledger.federation.ports import FedTx

_OPEN = (CrossStatus.PENDING, CrossStatus.CONFIRMING)


async def follow_transfer(tx: FedTx, transfer: Transfer, now: datetime) -> None:
    """This side's row of the exchange whose hours ``transfer`` moved, brought to its end."""
    if transfer.state is TransferState.PREPARED:
        return
    row = await tx.store.get_exchange(transfer.community_id, transfer.id, lock=True)
    if row is None or row.status not in _OPEN or row.link_id != transfer.link_id:
        return
    if transfer.member_id is not None and transfer.member_id != row.member_id:
        return  # a transfer that reuses an exchange's id for other members is not its hours
    if transfer.state is TransferState.COMMITTED:
        done = replace(row, status=CrossStatus.CONFIRMED, completed_at=now)
        # The side whose member confirmed saw it confirming; the other learns it only now.
        operation = (
            "cross_exchange_crossed"
            if row.status is CrossStatus.CONFIRMING
            else "partner_confirmed_cross_exchange"
        )
    else:
        done = replace(row, status=CrossStatus.REFUSED, completed_at=now, reason=transfer.reason)
        operation = "cross_exchange_refused"
    await tx.store.complete_exchange(done)
    await tx.repo.append_audit(row.community_id, audit.event(operation, None, done, now))
