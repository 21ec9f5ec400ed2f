"""The directory of a linked community on another node: fetched from that node when read, over
the signed peer channel (step ``directory``; the partner answers only a node at the other end of
a link active on its side), and kept a short while.

Why fetch rather than keep a copy: whether a member is listed is their own choice and their
node is the authority; a copy pushed to every partner would need a message for every change and
would keep showing a member who withdrew until the next one arrived. Fetching on read shows a
change within :data:`FRESH` (the cache spares the partner a request per page view). A partner
that does not answer within :data:`TIMEOUT_S` does not break the page: its last listing is shown
for at most :data:`STALE` more, then none (and it is not asked again for :data:`FRESH`, so a
node down slows no page twice). A stale listing never lets a record through for a member who
has withdrawn: the partner node checks the listing again when the record arrives.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
import structlog

from ledger.federation.courier import SendFailed
from ledger.federation.exchange_messages import DIRECTORY_STEP, DirectoryPage
from ledger.federation.exchange_model import Listing
from ledger.federation.messages import PeerMessage
from ledger.federation.model import Link
from ledger.kernel import errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import new_id

log = structlog.get_logger("commons_ledger.federation")
FRESH: Final = timedelta(seconds=30)
STALE: Final = timedelta(minutes=10)
TIMEOUT_S: Final = 3.0

Ask = Callable[[uuid.UUID, str, dict[str, Any], uuid.UUID, float], Awaitable[PeerMessage]]
"""One signed query to a link's partner node: (link, step, body, message id, timeout) → its
verified answer (``Courier.ask``)."""


@dataclass(frozen=True, slots=True)
class _Kept:
    at: datetime
    listings: tuple[Listing, ...]


class RemoteDirectory:
    def __init__(self, ask: Ask, clock: Clock) -> None:
        self._ask = ask
        self._clock = clock
        self._kept: dict[tuple[uuid.UUID, uuid.UUID], _Kept] = {}
        self._failed: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}

    async def listings(self, community_id: uuid.UUID, link: Link) -> Sequence[Listing] | None:
        """The partner node's listed members, named with their community; None when it has not
        answered lately and nothing recent is kept."""
        key = (community_id, link.id)
        now = self._clock()
        kept = self._kept.get(key)
        if kept is not None and now - kept.at < FRESH:
            return kept.listings
        failed = self._failed.get(key)
        if failed is None or now - failed >= FRESH:
            fetched = await self._fetch(link)
            if fetched is not None:
                self._kept[key] = _Kept(now, fetched)
                self._failed.pop(key, None)
                return fetched
            self._failed[key] = now
        if kept is not None and now - kept.at < FRESH + STALE:
            return kept.listings
        return None

    async def _fetch(self, link: Link) -> tuple[Listing, ...] | None:
        try:
            answer = await self._ask(link.id, DIRECTORY_STEP, {}, new_id(), TIMEOUT_S)
            page = msgspec.convert(answer.body, DirectoryPage)
        except (SendFailed, OSError, errors.LedgerError, msgspec.ValidationError) as exc:
            log.info("partner directory not read", link_id=str(link.id), error=str(exc)[:200])
            return None
        partner = link.partner
        return tuple(
            Listing(partner.slug, partner.name, link.id, x.member_id, x.name) for x in page.members
        )
