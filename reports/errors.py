"""Expected refusals of the reports, in the ledger's error family (stable codes)."""

from __future__ import annotations

from ledger.kernel import errors
from ledger.kernel.errors import AlreadyExists, NotFound


class SnapshotExists(AlreadyExists):
    """The period already has a snapshot; snapshots are never overwritten."""

    code = "snapshot_exists"


# A snapshot taken under an idempotency key stores a refusal by code; its replay rebuilds the
# error from the core's table, so the code joins it.
errors.ERROR_TYPES[SnapshotExists.code] = SnapshotExists


class SnapshotNotFound(NotFound):
    code = "snapshot_not_found"
