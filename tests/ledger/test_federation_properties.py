"""Random cross transfers both ways over one link, against a model of the two sides' limits:
each transfer commits exactly when the model says it fits; hours are neither created nor lost
across the federation; A's clearing balance is minus B's, converted, at every step's end; and
the two journals reconcile, in agreement with both sides' books."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.federation.model import Rate
from ledger.kernel import errors
from ledger.kernel.model import HOURS
from ledger.store import create_engine
from tests.ledger.federation_world import EUR_RATE, World, make_world

WE_OWE = {HOURS: 500, "EUR": 700}
THEY_OWE = {HOURS: 300, "EUR": 400}
MEMBER_MIN = {HOURS: -1200, "EUR": -50_000}
RATES = {HOURS: Rate(1, 1), "EUR": EUR_RATE}
"""B units per A unit."""

OPERATIONS = st.lists(
    st.tuples(st.booleans(), st.sampled_from([HOURS, "EUR"]), st.integers(1, 450)),
    max_size=10,
)


@dataclass
class Model:
    """What each side owes the other (its own units) and each member's balance."""

    a_owes: dict[str, int] = field(default_factory=lambda: {HOURS: 0, "EUR": 0})
    b_owes: dict[str, int] = field(default_factory=lambda: {HOURS: 0, "EUR": 0})
    a_member: dict[str, int] = field(default_factory=lambda: {HOURS: 0, "EUR": 0})
    b_member: dict[str, int] = field(default_factory=lambda: {HOURS: 0, "EUR": 0})

    def transfer(self, a_pays: bool, code: str, amount: int) -> bool:
        rate = RATES[code] if a_pays else RATES[code].inverse()
        received = rate.convert(amount)
        payer_owes, payee_owes = (
            (self.a_owes, self.b_owes) if a_pays else (self.b_owes, self.a_owes)
        )
        payer, payee = (self.a_member, self.b_member) if a_pays else (self.b_member, self.a_member)
        # The payer's limit in its own units; the payee's is the mirror, converted by its rate.
        payer_limit = WE_OWE[code] if a_pays else RATES[code].convert(THEY_OWE[code])
        payee_limit = RATES[code].convert(WE_OWE[code]) if a_pays else THEY_OWE[code]
        fits = (
            received >= 1
            and payer_owes[code] + amount <= payer_limit
            and -payee_owes[code] + received <= payee_limit
            and payer[code] - amount >= MEMBER_MIN[code]
        )
        if fits:
            payer_owes[code] += amount
            payee_owes[code] -= received
            payer[code] -= amount
            payee[code] += received
        return fits


async def _run(world: World, operations: list[tuple[bool, str, int]]) -> None:
    link = await world.link(
        we_owe=WE_OWE[HOURS],
        they_owe=THEY_OWE[HOURS],
        eur_we_owe=WE_OWE["EUR"],
        eur_they_owe=THEY_OWE["EUR"],
    )
    model, transfers = Model(), world.federation.transfers
    a_hours = (await world.ledger.get_member(world.a.cid, world.a.member.id)).hours_account_id
    b_hours = (await world.ledger.get_member(world.b.cid, world.b.member.id)).hours_account_id
    for a_pays, code, amount in operations:
        payer, payee = (world.a, world.b) if a_pays else (world.b, world.a)
        request = world.request(
            link.id,
            amount,
            commodity=code,
            payer_member_id=payer.member.id,
            payee_member_id=payee.member.id,
        )
        try:
            await transfers.create(payer.cid, request)
            committed = True
        except errors.LedgerError:
            committed = False
        assert committed == model.transfer(a_pays, code, amount), (a_pays, code, amount)
    assert await world.balance(world.a, a_hours) == model.a_member[HOURS]
    assert await world.balance(world.b, b_hours) == model.b_member[HOURS]
    assert model.a_member[HOURS] + model.b_member[HOURS] == 0  # hours cross 1:1
    result = await transfers.reconcile(world.a.cid, link.id)
    assert result.journal.agrees and result.books_agree
    assert result.books == model.a_owes
    theirs = await transfers.reconcile(world.b.cid, link.id)
    assert theirs.books == model.b_owes
    converted = {code: -owed for code, owed in result.journal.ours.partner_balances.items()}
    assert {c: v for c, v in converted.items() if v} == {
        c: -v for c, v in model.b_owes.items() if v
    }


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_cross_transfers_follow_the_model(
    database_url: str, operations: list[tuple[bool, str, int]]
) -> None:
    async def scenario() -> None:
        engine = create_engine(database_url)
        try:
            await _run(await make_world(engine), operations)
        finally:
            await engine.dispose()

    asyncio.run(scenario())
