"""The audit trail of a community, for its treasurers (``commons-ledger audit verify`` checks
the chain from the command line)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from api.http.common.auth import requires
from api.http.common.openapi import COMMUNITY, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.schemas import AuditRecordOut, Page
from ledger.access.principals import Scope
from ledger.audit.trail import AuditTrail
from ledger.kernel.model import Community


@get(
    "/audit",
    summary="The audit trail: every write that took effect, oldest first (treasurers)",
    description=(
        "One record per write: who (credential kind and id, member, role), what (`operation`, "
        "`result_ids`), when, the request id and the idempotency key. Each record's `hash` is "
        "the SHA-256 of the previous record's hash and a canonical form of its own fields, so "
        "`commons-ledger audit verify` finds any record changed or removed."
    ),
    responses=problems(*COMMUNITY, 403),
    guards=[requires(Scope.TREASURER)],
    tags=["audit"],
)
async def list_audit(
    community: NamedDependency[Community],
    audit: NamedDependency[AuditTrail],
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> Page[AuditRecordOut]:
    after = decode_cursor(cursor, int) or 0
    found = await audit.records(community.id, after_seq=after, limit=limit + 1)
    return page_of(found, limit, AuditRecordOut.of, lambda record: record.seq)


COMMUNITY_HANDLERS = [list_audit]
"""Handlers under ``/communities/{slug}``."""
