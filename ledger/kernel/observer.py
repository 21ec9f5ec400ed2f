"""What the use cases tell an observer (metrics, for one) about the writes they make.

The ledger knows nothing of how these are counted; the composition root plugs in an observer.
Each call happens after the write's transaction committed (or, for a replay, after the stored
outcome was read), so an observer never counts a write that was rolled back.
"""

from __future__ import annotations

from typing import Protocol


class LedgerEvents(Protocol):
    def written(self, operation: str, result: object) -> None:
        """A write took effect: ``operation`` is the use case (``post_entry``, ``reverse`` …),
        ``result`` what it returned (an ``Entry``, ``Member`` …)."""
        ...

    def replayed(self, operation: str) -> None:
        """A retry under a used idempotency key got the first outcome back, with no effect."""
        ...


class NoEvents:
    """The observer that ignores everything."""

    def written(self, operation: str, result: object) -> None:
        pass

    def replayed(self, operation: str) -> None:
        pass
