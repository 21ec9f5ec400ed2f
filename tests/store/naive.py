"""A deliberately wrong repository: read-then-write without row locks.

``NaiveRepository.lock_accounts`` reads the same rows as ``SqlRepository.lock_accounts`` but takes
no lock, so two concurrent writers may both read a counter, both add to it and the later write
overwrites the earlier one (a lost update). The concurrency tests run their workload against it to
prove that their checks catch exactly this; it must never be used outside tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from ledger.kernel.model import Account
from ledger.store.accounts import account_from_row as _account
from ledger.store.repository import SqlRepository
from ledger.store.tables import accounts


class NaiveRepository(SqlRepository):
    """``SqlRepository`` with a plain ``SELECT`` where it should lock the accounts."""

    async def lock_accounts(
        self, community_id: uuid.UUID, account_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Account]:
        rows = await self._conn.execute(
            sa.select(accounts)
            .where(accounts.c.community_id == community_id, accounts.c.id.in_(account_ids))
            .order_by(accounts.c.id)
        )
        return {row.id: _account(row) for row in rows}
