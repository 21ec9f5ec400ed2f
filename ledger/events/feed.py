"""The pull feed: a community's events in commit order, without gaps or repeats.

A position is ``(seq, n)`` (see ``ledger.audit.outbox``). Audit numbers are given out under the
chain
head's row lock, which a writer holds until it commits, so a record numbered ``s`` commits only
after every record before it did: a reader that sees ``s`` sees everything before it, and paging
"after the last position seen" never skips an event that commits later. (A global sequence would
not do: on PostgreSQL its values become visible out of order.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from ledger.audit.outbox import EVENT_TYPES, Event
from ledger.kernel import errors
from ledger.kernel.uow import UnitOfWork, UnitOfWorkFactory

SCAN_ROWS_MAX: Final = 5000
"""Most events one page of a member's feed looks at before it answers with fewer items (and a
cursor to continue from), so a member in a busy community cannot make one request scan it all."""


class EventReader(Protocol):
    async def list_events(
        self,
        community_id: uuid.UUID,
        *,
        after: tuple[int, int],
        types: Sequence[str] | None,
        limit: int,
    ) -> list[Event]: ...


ReaderOf = Callable[[UnitOfWork[object]], EventReader]
"""Builds the event reader on a unit of work, in its snapshot
(``ledger.store.events.SqlEventStore.of``). The feed reads no repository: ``object``."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """A member token's view: only events about the member or their accounts."""

    member_id: uuid.UUID
    account_ids: frozenset[uuid.UUID]


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: tuple[Event, ...]
    next_position: tuple[int, int] | None
    """Where the next page starts, None when the feed has nothing more now (a poller then asks
    again after the last event's position)."""


def check_types(types: Sequence[str] | None) -> None:
    unknown = sorted(set(types or ()) - set(EVENT_TYPES))
    if unknown:
        raise errors.InvalidInput(
            f"unknown event types {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
        )


class EventFeed:
    def __init__(self, units: UnitOfWorkFactory[object], reader: ReaderOf) -> None:
        self._units = units
        self._reader = reader

    async def page(
        self,
        community_id: uuid.UUID,
        *,
        after: tuple[int, int] = (0, 0),
        types: Sequence[str] | None = None,
        limit: int = 50,
        viewer: Viewer | None = None,
    ) -> FeedPage:
        """Up to ``limit`` events after ``after``, of ``types`` when given, those ``viewer``
        may see when given."""
        check_types(types)
        async with self._units(write=False) as unit:
            reader = self._reader(unit)
            if viewer is None:
                found = await reader.list_events(
                    community_id, after=after, types=types, limit=limit + 1
                )
                more = len(found) > limit
                page = tuple(found[:limit])
                return FeedPage(page, page[-1].position if more else None)
            return await _member_page(
                reader,
                community_id=community_id,
                after=after,
                types=types,
                limit=limit,
                viewer=viewer,
            )


async def _member_page(
    reader: EventReader,
    *,
    community_id: uuid.UUID,
    after: tuple[int, int],
    types: Sequence[str] | None,
    limit: int,
    viewer: Viewer,
) -> FeedPage:
    visible: list[Event] = []
    scanned = 0
    batch = max(limit + 1, 200)
    while scanned < SCAN_ROWS_MAX:
        found = await reader.list_events(community_id, after=after, types=types, limit=batch)
        scanned += len(found)
        for event in found:
            if event.visible_to(viewer.member_id, viewer.account_ids):
                visible.append(event)
                if len(visible) > limit:
                    return FeedPage(tuple(visible[:limit]), visible[limit - 1].position)
        if len(found) < batch:
            return FeedPage(tuple(visible), None)
        after = found[-1].position
    # The scan budget ran out: continue from where it stopped.
    return FeedPage(tuple(visible), after)
