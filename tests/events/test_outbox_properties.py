"""Property: for any sequence of writes, some of them rejected, the feed holds exactly the events
of the writes that took effect, in the order they took effect."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.books.service import Ledger
from ledger.events.feed import EventFeed
from ledger.kernel import errors
from ledger.kernel.model import Entry
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.events import SqlEventStore
from tests.conftest import unique_slug
from tests.ledger.test_service import transfer

Step = tuple[str, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(["post", "pending", "complete", "void", "reverse"]), st.integers(1, 90)
    ),
    min_size=1,
    max_size=12,
)


async def _run(database_url: str, plan: list[Step]) -> tuple[list[str], list[str]]:
    engine = create_engine(database_url)
    try:
        ledger = Ledger(SqlUnitOfWorkFactory(engine))
        community = await ledger.create_community(unique_slug("p"), "P")
        # Tight limits: many moves are rejected, and a rejection must leave no event.
        ann = await ledger.create_member(community.id, "Ann", hours_min=-100)
        bob = await ledger.create_member(community.id, "Bob", hours_min=-100)
        expected = ["member.created", "member.created"]
        entries: list[Entry] = []
        for action, minutes in plan:
            try:
                if action in ("post", "pending"):
                    entry = await ledger.post_entry(
                        community.id,
                        transfer(
                            ann.hours_account_id,
                            bob.hours_account_id,
                            minutes,
                            pending=action == "pending",
                        ),
                    )
                    entries.append(entry)
                    expected.append(f"entry.{entry.status}")
                elif not entries:
                    continue
                elif action == "complete":
                    done = await ledger.post_pending(
                        community.id, entries[minutes % len(entries)].id
                    )
                    expected.append("entry.posted")
                    entries.append(done)
                elif action == "void":
                    await ledger.void_pending(community.id, entries[minutes % len(entries)].id)
                    expected.append("entry.voided")
                else:
                    reversal = await ledger.reverse(
                        community.id, entries[minutes % len(entries)].id
                    )
                    expected.append("entry.reversed")
                    entries.append(reversal)
            except errors.LedgerError:
                pass  # rejected: it must have emitted nothing
        feed = EventFeed(SqlUnitOfWorkFactory(engine), SqlEventStore.of)
        page = await feed.page(community.id, limit=1000)
        positions = [event.position for event in page.events]
        assert positions == sorted(set(positions))
        return expected, [event.type for event in page.events]
    finally:
        await engine.dispose()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_the_feed_holds_exactly_the_effective_writes(database_url: str, plan: list[Step]) -> None:
    expected, found = asyncio.run(_run(database_url, plan))
    assert found == expected
