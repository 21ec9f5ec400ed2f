"""A client retrying a cross transfer to another node under its Idempotency-Key — its answer
lost, say, when the payer's node died — gets its first transfer back, as on one install, not
``idempotency_conflict`` (each request carries a new transfer id, which the key's fingerprint
leaves out)."""

from __future__ import annotations

from ledger.kernel.model import IdempotencyKey
from tests.federation.conftest import Pair
from tests.federation.nodes import linked, request


async def test_a_retry_under_the_same_key_answers_the_first_transfer(pair: Pair) -> None:
    link = await linked(pair.a, pair.b, pair.clock)
    key = IdempotencyKey("api-key:1", "pay-bob-once")
    first = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 30), key)
    again = await pair.a.remote.create(pair.a.cid, request(pair.a, pair.b, link, 30), key)
    assert again.id == first.id
    assert await pair.a.hours() == (0, -30)  # one hold, not two
    assert await pair.a.waiting() == 1
