"""Batches of transfers: ``POST …/transfers:batch``, 1–1000 items in one request.

Each item is a transfer with its own ``idempotency_key`` and stands alone: it is written whole or
not at all, and answers what a single ``POST …/transfers`` with that key would have answered —
``201`` and the entry, or the problem it met, with the item's ``index``. The response is ``200``
when every item holds an entry and ``207`` (Multi-Status) when any item failed; the batch as a
whole fails only for what concerns every item (authentication, a malformed body, the database).
Sending the same batch again answers the same items, byte for byte, and writes nothing more.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.http.book_schemas import TransferCreate
from api.http.common.auth import principal_of, requires
from api.http.common.errors import ledger_error_response
from api.http.common.openapi import COMMUNITY, ENTRY_RULES, problems
from api.http.schemas import EntryOut
from ledger.access.principals import Scope
from ledger.books.batches import ITEMS_MAX, BatchItem, EntryBatches, ItemOutcome
from ledger.kernel.model import Community, NewEntry, PostingSpec

HTTP_207_MULTI_STATUS = 207

ItemKey = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=255,
        pattern=r"^[^\u0000]*$",
        description="This item's retry key: the same key and item answer the first outcome",
        examples=["payroll-2026-11-ann"],
    ),
]


class TransferItem(TransferCreate, frozen=True, kw_only=True):
    """A transfer (as ``POST …/transfers`` takes it) with its own idempotency key."""

    idempotency_key: ItemKey


class TransferBatch(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    items: Annotated[list[TransferItem], msgspec.Meta(min_length=1, max_length=ITEMS_MAX)]


class ItemProblem(msgspec.Struct, frozen=True):
    """An RFC 9457 problem, as a single request would have answered it, and the item's index."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    index: int


class ItemResult(msgspec.Struct, frozen=True, omit_defaults=True):
    index: int
    """The item's position in the request, from 0."""
    status: int
    """What a single request would have answered: 201, or the problem's status."""
    entry: EntryOut | None = None
    problem: ItemProblem | None = None


class BatchResult(msgspec.Struct, frozen=True):
    items: list[ItemResult]
    """One per item, in the request's order."""
    succeeded: int
    failed: int


def _result(index: int, outcome: ItemOutcome, community: str) -> ItemResult:
    if outcome.entry is not None:
        return ItemResult(index, HTTP_201_CREATED, entry=EntryOut.of(outcome.entry, community))
    assert outcome.error is not None
    response = ledger_error_response(outcome.error)
    problem = response.content
    item = ItemProblem(
        problem.type, problem.title, problem.status, problem.detail, problem.code, index
    )
    return ItemResult(index, problem.status, problem=item)


_ITEM_CODES = [*ENTRY_RULES, "idempotency_conflict", "idempotency_in_flight"]


@post(
    "/transfers:batch",
    summary="Write up to 1,000 transfers, each atomic and idempotent on its own key",
    description=(
        "Each item answers what `POST …/transfers` with its `idempotency_key` would have "
        f"answered, with its index: {', '.join(f'`{c}`' for c in _ITEM_CODES)}. 200 when "
        "every item holds an entry, 207 when any failed. Limits hold across items as across "
        "requests: items are checked in order."
    ),
    responses={
        HTTP_207_MULTI_STATUS: ResponseSpec(
            data_container=BatchResult,
            description="Some items failed; each says why (the others were written)",
        ),
        **problems(*COMMUNITY, 403, 413, codes=["lock_timeout"]),
    },
    guards=[requires(Scope.WRITE)],
    status_code=HTTP_200_OK,
    tags=["entries"],
)
async def create_transfer_batch(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    batches: NamedDependency[EntryBatches],
    data: JSONBody[TransferBatch],
) -> Response[BatchResult]:
    items = [
        BatchItem(
            NewEntry(
                postings=(
                    PostingSpec(item.debit_account_id, item.amount),
                    PostingSpec(item.credit_account_id, -item.amount),
                ),
                description=item.description,
                pending=item.pending,
                effective_date=item.effective_date,
                kind="transfer",
                metadata=item.metadata,
            ),
            item.idempotency_key,
        )
        for item in data.items
    ]
    scope = principal_of(request).idempotency_scope
    outcomes = await batches.post_entries(community.id, scope, items)
    results = [_result(i, outcome, community.slug) for i, outcome in enumerate(outcomes)]
    failed = sum(1 for result in results if result.problem is not None)
    body = BatchResult(results, len(results) - failed, failed)
    return Response(body, status_code=HTTP_207_MULTI_STATUS if failed else HTTP_200_OK)


COMMUNITY_HANDLERS = [create_transfer_batch]
"""Handlers under ``/communities/{slug}``."""
