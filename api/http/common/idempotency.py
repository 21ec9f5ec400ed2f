"""The ``Idempotency-Key`` header every write takes.

The key, scoped to the caller, goes to the use case, which records it with the request's
fingerprint and outcome in the same transaction as the effect: a retry with the same request
answers the first response again (the same status and bytes, since responses are rendered from
the recorded outcome alone); a different request under the key is 409. Every write of the API
declares it but those in :data:`WITHOUT_KEY` (``tests/api/test_idempotency_everywhere.py`` walks
the OpenAPI document to hold every other write to it, declared and honoured).
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

from ledger.access.principals import Principal
from ledger.kernel.model import IdempotencyKey

IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retry key: the same key and body answer the first response again",
    ),
]


WITHOUT_KEY: dict[str, str] = {
    "issueApiKey": "a credential's secret is stored only hashed, so it cannot be shown again",
    "issueMemberToken": "a credential's secret is stored only hashed, so it cannot be shown again",
    "createTransferBatch": "each item carries its own `idempotency_key`: the batch is retry-safe "
    "item by item",
    "revokeMemberTokens": "revoking is safe to repeat on its own: a repeat revokes what is "
    "still in force (nothing, after the first) and answers how many it revoked (0)",
    "chooseListing": "a member's own choice, put whole: repeating it leaves the same state",
    "receivePeerMessage": "a signed peer message is keyed by its (link, transfer, step): a repeat "
    "answers the stored answer, a changed body is refused",
}
"""The writes (by operationId) that take no ``Idempotency-Key``, and why."""


def key_of(principal: Principal, header: str | None) -> IdempotencyKey | None:
    return None if header is None else IdempotencyKey(principal.idempotency_scope, header)
