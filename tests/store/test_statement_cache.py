"""Nothing on the write path defeats SQLAlchemy's compiled-statement cache: once warm, every
statement of a transfer, a keyed replay and a batch (of any size) is a cache hit — none is built
with literal values or with a shape that varies with the request."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import default
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.batches import BatchItem, EntryBatches
from ledger.books.service import Ledger
from ledger.kernel.model import Community, IdempotencyKey
from ledger.store import SqlUnitOfWorkFactory
from tests.ledger.test_service import members, transfer


@contextmanager
def compiled_statements(engine: AsyncEngine) -> Iterator[list[tuple[Any, str]]]:
    """(cache outcome, SQL) of every compiled statement run inside the block."""
    seen: list[tuple[Any, str]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is not None and context.compiled is not None:
            seen.append((context.cache_hit, statement))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_the_write_path_runs_on_cached_statements(
    ledger: Ledger, community: Community, engine: AsyncEngine
) -> None:
    batches = EntryBatches(SqlUnitOfWorkFactory(engine))
    people = await members(ledger, community, None, None, None)
    rng = random.Random(5)
    count = iter(range(10_000))

    async def work(batch_size: int) -> None:
        a, b = rng.sample(people, 2)
        spec = transfer(a.hours_account_id, b.hours_account_id, rng.randint(1, 99))
        key = IdempotencyKey("api_key:x", f"k{next(count)}")
        await ledger.post_entry(community.id, spec, key)
        await ledger.post_entry(community.id, spec, key)  # the replay
        await ledger.post_entry(community.id, spec)
        items = []
        for _ in range(batch_size):
            a, b = rng.sample(people, 2)
            spec = transfer(a.hours_account_id, b.hours_account_id, rng.randint(1, 99))
            items.append(BatchItem(spec, f"b{next(count)}"))
        await batches.post_entries(community.id, "api_key:x", items)
        await batches.post_entries(community.id, "api_key:x", items)  # the replay

    # One item runs as a single execution and several as an executemany: two cache entries.
    await work(1)
    await work(3)
    with compiled_statements(engine) as seen:
        for size in (1, 7, 40):
            await work(size)
    assert seen
    missed = [sql for outcome, sql in seen if outcome is not default.CACHE_HIT]
    assert missed == [], "\n".join(f"{o} {s}" for o, s in seen if o is not default.CACHE_HIT)
