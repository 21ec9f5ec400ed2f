"""Expected refusals of the reports, in the ledger's error family (stable codes)."""

from __future__ import annotations

from ledger.kernel.errors import AlreadyExists, NotFound


class SnapshotExists(AlreadyExists):
    """The period already has a snapshot; snapshots are never overwritten."""

    code = "snapshot_exists"


class SnapshotNotFound(NotFound):
    code = "snapshot_not_found"
