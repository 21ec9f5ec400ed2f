"""A fixed-window counter of sign-in attempts per client address, in this process's memory."""

from __future__ import annotations

import time
from collections.abc import Callable


class Throttle:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def allow(self, address: str) -> bool:
        """Counts one attempt from ``address``; False once it made too many this minute."""
        window = int(self._clock() // 60)
        if window != self._window:
            # A new minute: forget the last one's counts, which also bounds the memory held.
            self._window, self._counts = window, {}
        count = self._counts.get(address, 0) + 1
        self._counts[address] = count
        return count <= self._per_minute

    def seconds_left(self) -> int:
        return 60 - int(self._clock() % 60)
