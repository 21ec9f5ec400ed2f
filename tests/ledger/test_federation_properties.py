"""Random cross transfers both ways over one link, and through a hub, against a model of every
side's limits: each transfer commits exactly when the model says it fits; hours are neither
created nor lost across the federation; A's clearing balance is minus B's, converted, at every
step's end; and the journals reconcile, in agreement with each side's books."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.federation.model import Rate
from ledger.kernel import errors
from ledger.kernel.model import HOURS
from ledger.store import create_engine
from tests.ledger.federation_world import EUR_RATE, World, hours_terms, make_side, make_world

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


# Through a hub: A – B – C, hours only. (payer, payee) pairs; A ↔ C goes through B.
ROUTES = st.lists(
    st.tuples(st.sampled_from(["ab", "ba", "bc", "cb", "ac", "ca"]), st.integers(1, 350)),
    max_size=10,
)
OWE = {("ab", "a"): 500, ("ab", "b"): 300, ("bc", "b"): 400, ("bc", "c"): 200}
"""How far each side of each link may owe the other, in minutes."""


def _hops(route: str) -> list[tuple[str, str, str]]:
    """(link, payer side, payee side) of each hop."""
    link = {frozenset("ab"): "ab", frozenset("bc"): "bc"}
    if "b" in route:
        return [(link[frozenset(route)], route[0], route[1])]
    return [
        (link[frozenset(route[0] + "b")], route[0], "b"),
        (link[frozenset("b" + route[1])], "b", route[1]),
    ]


async def _run_routes(world: World, operations: list[tuple[str, int]]) -> None:
    c = await make_side(world.ledger, world.governance, "valley", "Valley")
    sides = {"a": world.a, "b": world.b, "c": c}
    links = world.federation.links
    ab = await world.link(we_owe=OWE["ab", "a"], they_owe=OWE["ab", "b"])
    bc = await links.propose(
        world.b.cid, c.community.slug, hours_terms(we_owe=OWE["bc", "b"], they_owe=OWE["bc", "c"])
    )
    await links.consent(world.b.cid, bc.id, 1, world.b.steward.id)
    await links.accept(c.cid, bc.id, c.steward.id)
    link_ids = {"ab": ab.id, "bc": bc.id}
    owed = dict.fromkeys(OWE, 0)
    members = {"a": 0, "b": 0, "c": 0}
    for route, amount in operations:
        payer, payee = sides[route[0]], sides[route[1]]
        hops = _hops(route)
        request = world.request(
            link_ids[hops[0][0]],
            amount,
            payer_member_id=payer.member.id,
            payee_member_id=payee.member.id,
            destination=None if len(hops) == 1 else payee.community.slug,
        )
        try:
            await world.federation.transfers.create(payer.cid, request)
            committed = True
        except errors.LedgerError:
            committed = False
        fits = members[route[0]] - amount >= MEMBER_MIN[HOURS] and all(
            owed[link, s] + amount <= OWE[link, s] for link, s, _ in hops
        )
        assert committed == fits, (route, amount)
        if fits:
            for link, s, t in hops:
                owed[link, s] += amount
                owed[link, t] -= amount
            members[route[0]] -= amount
            members[route[1]] += amount
    balances = [
        await world.balance(
            side, (await world.ledger.get_member(side.cid, side.member.id)).hours_account_id
        )
        for side in sides.values()
    ]
    assert balances == list(members.values()) and sum(balances) == 0
    for link, s in (("ab", "a"), ("bc", "b")):
        result = await world.federation.transfers.reconcile(sides[s].cid, link_ids[link])
        assert result.journal.agrees and result.books_agree
        assert result.books[HOURS] == owed[link, s]


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=ROUTES)
def test_transfers_through_a_hub_follow_the_model(
    database_url: str, operations: list[tuple[str, int]]
) -> None:
    async def scenario() -> None:
        engine = create_engine(database_url)
        try:
            await _run_routes(await make_world(engine), operations)
        finally:
            await engine.dispose()

    asyncio.run(scenario())
