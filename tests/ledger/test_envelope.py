"""The one idempotent write envelope (ledger/books/envelope.py): the ledger's, the economy's and
governance's writes all run in it, so all of them tell the observer."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.envelope import Done, WriteEnvelope
from ledger.books.ports import UnitOfWork
from ledger.books.service import Ledger
from ledger.economy.service import Economy
from ledger.kernel import errors
from ledger.kernel.clock import utc_now
from ledger.kernel.model import Commodity, Community, IdempotencyKey
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.economy import SqlEconomyStore
from tests.conftest import unique_slug


class Events:
    """Records what the envelope tells the observer, in order."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str]] = []

    def written(self, operation: str, result: object) -> None:
        self.heard.append(("written", operation))

    def replayed(self, operation: str) -> None:
        self.heard.append(("replayed", operation))


def _envelope(engine: AsyncEngine, events: Events) -> WriteEnvelope:
    return WriteEnvelope(SqlUnitOfWorkFactory(engine), utc_now, events)


async def test_a_write_tells_the_observer_once_and_a_retry_as_a_replay(
    engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    events = Events()
    envelope = _envelope(engine, events)
    key = IdempotencyKey("test", "commodity-1")
    eggs = Commodity(community.id, "EGGS", "Eggs", 0)

    async def work(uow: UnitOfWork) -> Commodity:
        await uow.repo.insert_commodity(eggs)
        return eggs

    for _ in range(2):
        written = await envelope.write(
            community.id, "add_commodity", eggs, key, work=work, result_type=Commodity
        )
        assert written == eggs
    with pytest.raises(errors.IdempotencyConflict):
        await envelope.write(
            community.id, "add_commodity", "other", key, work=work, result_type=Commodity
        )
    assert events.heard == [("written", "add_commodity"), ("replayed", "add_commodity")]
    assert [c.code for c in await ledger.list_commodities(community.id)].count("EGGS") == 1


async def test_a_decision_commits_its_effect_and_still_answers_its_error(
    engine: AsyncEngine, ledger: Ledger, community: Community
) -> None:
    events = Events()
    envelope = _envelope(engine, events)
    key = IdempotencyKey("test", "late")
    eggs = Commodity(community.id, "EGGS", "Eggs", 0)
    refusal = errors.InvalidInput("too late")

    async def work(uow: UnitOfWork) -> Done[Commodity]:
        await uow.repo.insert_commodity(eggs)
        return Done(eggs, "expire", error=refusal, also=("note",))

    for _ in range(2):  # the retry meets the same error, with no second effect
        with pytest.raises(errors.InvalidInput, match="too late"):
            await envelope.decide(
                community.id, "approve", "request", key, work=work, result_type=Commodity
            )
    assert "EGGS" in [c.code for c in await ledger.list_commodities(community.id)]
    assert events.heard == [("written", "expire"), ("written", "note"), ("replayed", "approve")]


async def test_a_decision_that_changed_nothing_tells_nothing(
    engine: AsyncEngine, community: Community
) -> None:
    events = Events()
    envelope = _envelope(engine, events)

    async def work(_: UnitOfWork) -> Done[str]:
        return Done("as it was", None)

    answer = await envelope.decide(
        community.id, "consent", "request", None, work=work, result_type=str
    )
    assert answer == "as it was"
    assert events.heard == []


async def test_economy_writes_tell_the_observer(engine: AsyncEngine) -> None:
    events = Events()
    economy = Economy(SqlUnitOfWorkFactory(engine), SqlEconomyStore.of, events=events)
    community, _ = await economy.charts.create_community(
        unique_slug("coop"), "Co-op", template=None
    )
    key = IdempotencyKey("test", "apply")
    for _ in range(2):
        await economy.charts.apply(community.id, "coop", idempotency_key=key)
    assert events.heard == [("written", "apply_template"), ("replayed", "apply_template")]
