"""Journal entries: transfers, general entries, two-phase completion and reversals.

Every write takes an optional ``Idempotency-Key`` header (see ``api.http.common.idempotency``).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.http.book_schemas import EntryCreate, ReverseRequest, TransferCreate
from api.http.common.auth import principal_of, requires
from api.http.common.idempotency import IdempotencyHeader, key_of
from api.http.common.openapi import COMMUNITY, COMPLETION, ENTRY_RULES, IDEMPOTENT, problems
from api.http.common.pagination import Cursor, PageLimit, decode_cursor, page_of
from api.http.common.visibility import check_entry
from api.http.schemas import EntryOut, Page
from ledger.access.principals import Principal, Scope
from ledger.books.group_commit import GroupCommit
from ledger.books.service import Ledger
from ledger.kernel.model import Community, Entry, NewEntry, PostingSpec
from ledger.timebank.exchanges import EXCHANGE_KIND


@post(
    "/transfers",
    summary="Move an amount from one account to another",
    responses=problems(*COMMUNITY, 403, 413, codes=[*ENTRY_RULES, *IDEMPOTENT]),
    guards=[requires(Scope.WRITE)],
    status_code=HTTP_201_CREATED,
    tags=["entries"],
)
async def create_transfer(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    entry_writes: NamedDependency[GroupCommit],
    data: JSONBody[TransferCreate],
    idempotency_key: IdempotencyHeader = None,
) -> EntryOut:
    entry = NewEntry(
        postings=(
            PostingSpec(data.debit_account_id, data.amount),
            PostingSpec(data.credit_account_id, -data.amount),
        ),
        description=data.description,
        pending=data.pending,
        effective_date=data.effective_date,
        kind="transfer",
        metadata=data.metadata,
    )
    key = key_of(principal_of(request), idempotency_key)
    return EntryOut.of(await entry_writes.post_entry(community.id, entry, key), community.slug)


@post(
    "/entries",
    summary="Write a multi-posting, multi-commodity entry",
    responses=problems(*COMMUNITY, 403, 413, codes=[*ENTRY_RULES, *IDEMPOTENT]),
    guards=[requires(Scope.WRITE)],
    status_code=HTTP_201_CREATED,
    tags=["entries"],
)
async def create_entry(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    entry_writes: NamedDependency[GroupCommit],
    data: JSONBody[EntryCreate],
    idempotency_key: IdempotencyHeader = None,
) -> EntryOut:
    entry = NewEntry(
        postings=tuple(PostingSpec(p.account_id, p.amount) for p in data.postings),
        description=data.description,
        pending=data.pending,
        effective_date=data.effective_date,
        metadata=data.metadata,
    )
    key = key_of(principal_of(request), idempotency_key)
    return EntryOut.of(await entry_writes.post_entry(community.id, entry, key), community.slug)


async def _own_accounts(
    ledger: Ledger, community: Community, principal: Principal
) -> set[uuid.UUID]:
    accounts = await ledger.list_accounts(community.id, member_id=principal.member_id)
    return {account.id for account in accounts}


@get(
    "/entries",
    summary="List entries in recorded order (a member token: those touching its accounts)",
    responses=problems(*COMMUNITY),
    guards=[requires(Scope.READ, members=True)],
    tags=["entries"],
)
async def list_entries(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> Page[EntryOut]:
    principal = principal_of(request)
    own = await _own_accounts(ledger, community, principal) if principal.is_member else None
    found = await ledger.list_entries(
        community.id,
        after=decode_cursor(cursor, uuid.UUID),
        limit=limit + 1,
        account_ids=None if own is None else sorted(own),
    )
    return page_of(found, limit, lambda e: EntryOut.of(e, community.slug), lambda entry: entry.id)


@get(
    "/entries/{entry_id:uuid}",
    summary="Read an entry",
    responses=problems(*COMMUNITY, codes=["entry_not_found"]),
    guards=[requires(Scope.READ, members=True)],
    tags=["entries"],
)
async def read_entry(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    entry_id: FromPath[uuid.UUID],
) -> EntryOut:
    principal = principal_of(request)
    entry = await ledger.get_entry(community.id, entry_id)
    if principal.is_member:
        check_entry(principal, entry, await _own_accounts(ledger, community, principal))
    return EntryOut.of(entry, community.slug)


async def _complete(
    ledger: Ledger,
    principal: Principal,
    community: Community,
    entry_id: uuid.UUID,
    header: str | None,
    *,
    post: bool,
) -> Entry:
    if not principal.allows(Scope.TREASURER):
        # Exchanges are confirmed by their receiver or a steward (see /exchanges), never
        # completed by a write key through the general entry routes.
        entry = await ledger.get_entry(community.id, entry_id)
        if entry.kind == EXCHANGE_KIND:
            raise PermissionDeniedException(
                "an exchange is confirmed or declined through /exchanges/{id}"
            )
    key = key_of(principal, header)
    if post:
        return await ledger.post_pending(community.id, entry_id, key)
    return await ledger.void_pending(community.id, entry_id, key)


_COMPLETION_PROBLEMS = problems(*COMMUNITY, 403, codes=[*COMPLETION, *IDEMPOTENT])


@post(
    "/entries/{entry_id:uuid}/post",
    summary="Post a pending entry",
    responses=_COMPLETION_PROBLEMS,
    guards=[requires(Scope.WRITE)],
    status_code=HTTP_200_OK,
    tags=["entries"],
)
async def post_pending(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    entry_id: FromPath[uuid.UUID],
    idempotency_key: IdempotencyHeader = None,
) -> EntryOut:
    principal = principal_of(request)
    completed = await _complete(ledger, principal, community, entry_id, idempotency_key, post=True)
    return EntryOut.of(completed, community.slug)


@post(
    "/entries/{entry_id:uuid}/void",
    summary="Void a pending entry, releasing its reservations",
    responses=_COMPLETION_PROBLEMS,
    guards=[requires(Scope.WRITE)],
    status_code=HTTP_200_OK,
    tags=["entries"],
)
async def void_pending(
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    entry_id: FromPath[uuid.UUID],
    idempotency_key: IdempotencyHeader = None,
) -> EntryOut:
    principal = principal_of(request)
    completed = await _complete(ledger, principal, community, entry_id, idempotency_key, post=False)
    return EntryOut.of(completed, community.slug)


@post(
    "/entries/{entry_id:uuid}/reverse",
    summary="Write the entry that undoes a posted entry (once)",
    responses=problems(
        *COMMUNITY,
        403,
        413,
        codes=[
            "entry_not_found",
            "entry_not_posted",
            "entry_already_reversed",
            "invalid_input",
            "account_closed",
            "account_guarded",
            "counter_overflow",
            "limit_exceeded",
            *IDEMPOTENT,
        ],
    ),
    guards=[requires(Scope.WRITE)],
    status_code=HTTP_201_CREATED,
    tags=["entries"],
)
async def reverse_entry(
    *,
    request: Request[Any, Any, Any],
    community: NamedDependency[Community],
    ledger: NamedDependency[Ledger],
    entry_id: FromPath[uuid.UUID],
    data: JSONBody[ReverseRequest | None] = None,
    idempotency_key: IdempotencyHeader = None,
) -> EntryOut:
    options = data or ReverseRequest()
    reversal = await ledger.reverse(
        community.id,
        entry_id,
        effective_date=options.effective_date,
        description=options.description,
        idempotency_key=key_of(principal_of(request), idempotency_key),
    )
    return EntryOut.of(reversal, community.slug)


COMMUNITY_HANDLERS = [
    create_transfer,
    create_entry,
    list_entries,
    read_entry,
    post_pending,
    void_pending,
    reverse_entry,
]
"""Handlers under ``/communities/{slug}``, in the order the OpenAPI document lists them."""
