"""Random cross exchanges recorded and answered from either side, against a model: only the
recorder's counterparty can answer; a confirmation moves the hours exactly when both sides'
link limits and the receiver's own limit allow it, else the exchange stays pending; a decline
moves nothing; hours are neither created nor lost and the link's journals reconcile."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.federation.exchange_model import CrossRecord, CrossStatus, ExchangeRole
from ledger.kernel import errors
from ledger.store import create_engine
from tests.ledger.federation_world import Side, World, make_world

OWES_MAX = {"a": 500, "b": 300}
"""How far each side may owe the other, in minutes."""
MEMBER_MIN = -1200

RECORD = st.tuples(st.just("record"), st.sampled_from("ab"), st.booleans(), st.integers(1, 400))
ANSWER = st.tuples(st.just("answer"), st.integers(0, 9), st.booleans(), st.booleans())
OPERATIONS = st.lists(st.one_of(RECORD, ANSWER), max_size=12)


@dataclass
class Pending:
    id: uuid.UUID
    provider: str
    recorder: str
    minutes: int
    status: CrossStatus = CrossStatus.PENDING


async def _run(world: World, operations: list[tuple[str, object, bool, object]]) -> None:
    link = await world.link(we_owe=OWES_MAX["a"], they_owe=OWES_MAX["b"])
    sides: dict[str, Side] = {"a": world.a, "b": world.b}
    other = {"a": "b", "b": "a"}
    exchanges = world.federation.exchanges
    owes = {"a": 0, "b": 0}
    members = {"a": 0, "b": 0}
    made: list[Pending] = []
    for op in operations:
        if op[0] == "record":
            _, provider, by_provider, minutes = op
            assert isinstance(provider, str) and isinstance(minutes, int)
            recorder = provider if by_provider else other[provider]
            role = ExchangeRole.PROVIDER if by_provider else ExchangeRole.RECEIVER
            record = CrossRecord(
                link.id,
                sides[recorder].member.id,
                role,
                sides[other[recorder]].member.id,
                minutes,
                "help",
            )
            recorded = await exchanges.record(sides[recorder].cid, record)
            made.append(Pending(recorded.id, provider, recorder, minutes))
            continue
        _, index, confirm, by_recorder = op
        assert isinstance(index, int)
        if not made:
            continue
        x = made[index % len(made)]
        answerer = x.recorder if by_recorder else other[x.recorder]
        side = sides[answerer]
        try:
            await exchanges.complete(side.cid, x.id, side.member.id, confirm=bool(confirm))
            done = True
        except errors.LedgerError:
            done = False
        receiver = other[x.provider]
        fits = (
            not by_recorder
            and x.status is CrossStatus.PENDING
            and (
                not confirm
                or (
                    owes[receiver] + x.minutes <= OWES_MAX[receiver]
                    and members[receiver] - x.minutes >= MEMBER_MIN
                )
            )
        )
        assert done == fits, (op, x)
        if fits and confirm:
            owes[receiver] += x.minutes
            owes[x.provider] -= x.minutes
            members[receiver] -= x.minutes
            members[x.provider] += x.minutes
        if fits:
            x.status = CrossStatus.CONFIRMED if confirm else CrossStatus.DECLINED
    for key, side in sides.items():
        assert await world.balance(side, side.member.hours_account_id) == members[key]
        for x in made:
            assert (await exchanges.get(side.cid, x.id)).status is x.status
    assert members["a"] + members["b"] == 0
    result = await world.federation.transfers.reconcile(world.a.cid, link.id)
    assert result.journal.agrees and result.books_agree


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_cross_exchanges_follow_the_model(
    database_url: str, operations: list[tuple[str, object, bool, object]]
) -> None:
    async def scenario() -> None:
        engine = create_engine(database_url)
        try:
            await _run(await make_world(engine), operations)
        finally:
            await engine.dispose()

    asyncio.run(scenario())
