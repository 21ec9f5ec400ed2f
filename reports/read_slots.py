"""A bound on the heavy reads — journal exports and sustainability reports — so that however
many are asked for at once they hold only a few of the pool's connections, each for a bounded
time, and writes and balance reads keep the rest (issue 18, H2).

Both bounds raise the built-in :class:`TimeoutError`, which the API answers as the pool's own
timeout: 503 ``database_unavailable`` with ``Retry-After`` (``api.http.common.database_errors``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ReadSlots:
    """At most ``slots`` heavy reads at once; a newcomer waits up to ``wait_s`` for a slot, and
    a read holding one is cut after ``deadline_s`` in all. :meth:`unbounded` bounds nothing:
    operator commands run one long read an operator waits for."""

    def __init__(self, slots: int, wait_s: float, deadline_s: float) -> None:
        self._slots: asyncio.Semaphore | None = asyncio.Semaphore(slots)
        self._wait_s = wait_s
        self._deadline_s: float | None = deadline_s

    @classmethod
    def unbounded(cls) -> ReadSlots:
        slots = cls(1, 0, 0)
        slots._slots = slots._deadline_s = None
        return slots

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        if self._slots is None:
            yield
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), self._wait_s)
        except TimeoutError:
            raise TimeoutError(
                f"no export or report slot became free within {self._wait_s:g} s"
            ) from None
        try:
            async with asyncio.timeout(self._deadline_s):
                yield
        finally:
            self._slots.release()
