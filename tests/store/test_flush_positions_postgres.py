"""The primary's WAL flush position for the replica's reads (``ledger.store.replica``), on the
shared PostgreSQL server: units that ask together share one query; a unit that asks after a
query was sent never takes that query's answer, so a write acknowledged before it asked is
always covered."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, text

from ledger.store import create_engine
from ledger.store.replica import FlushPositions


def _lsn(position: str) -> int:
    high, low = position.split("/")
    return (int(high, 16) << 32) + int(low, 16)


async def test_units_asking_together_share_one_query_and_later_ones_see_later_writes(
    postgresql_database_url: str,
) -> None:
    engine = create_engine(postgresql_database_url)
    checkouts = [0]
    event.listen(
        engine.sync_engine.pool, "checkout", lambda *_: checkouts.__setitem__(0, checkouts[0] + 1)
    )
    positions = FlushPositions(engine)
    try:
        together = await asyncio.gather(*(positions.current() for _ in range(8)))
        assert len(set(together)) == 1
        assert checkouts[0] == 1
        for _ in range(3):
            async with engine.begin() as connection:  # a write, acknowledged before the ask
                await connection.execute(text("CREATE TEMPORARY TABLE t (x int) ON COMMIT DROP"))
                await connection.execute(text("INSERT INTO t VALUES (1)"))
            async with engine.connect() as connection:
                after_write = (
                    await connection.execute(text("SELECT pg_current_wal_flush_lsn()::text"))
                ).scalar_one()
            assert _lsn(await positions.current()) >= _lsn(after_write)
    finally:
        await engine.dispose()
