"""Faults between two real nodes (``commons-ledger serve`` on SQLite, A, and on PostgreSQL, B,
shared with ``test_two_nodes.py``): 16 concurrent clients on one link, each way in turn, a
node SIGKILLed exactly between two steps of the protocol (``api.peer_faults``), and a node down
for longer than the hold window (both nodes' federation clocks moved past it, not waited for).

Afterwards, each time: every transfer committed on both sides or rejected on both, none twice,
no hold left, the journals agree (``commons-ledger federation reconcile``) and the hours of the
federation sum to what they were (zero: every community starts empty)."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from api.peer_faults import PAYEE_AFTER_DECIDE, PAYER_BEFORE_SETTLE
from tests.federation.processes import (
    HOLD_WINDOW_S,
    ProcessNode,
    advance_clocks,
    link,
    new_members,
    pay,
    start_both,
    try_pay,
    wait_settled,
)

CLIENTS = 16
A_MAY_OWE, B_MAY_OWE = 300, 200
"""The link's limits of the concurrency test: how far A may owe B, and B owe A."""


@dataclass
class Side:
    """One community on one node, its member, and its clearing account for the partner."""

    node: ProcessNode
    clearing_id: str

    def balance(self, account_id: str) -> dict[str, int]:
        found = self.node.api("GET", f"/accounts/{account_id}/balance")
        assert found.status_code == 200, found.text
        body: dict[str, int] = found.json()
        return body


@pytest.fixture
def nodes(
    linked_nodes: tuple[ProcessNode, ProcessNode, str],
) -> tuple[ProcessNode, ProcessNode, str]:
    a, b, _ = linked_nodes
    new_members(a, b)
    return linked_nodes


def _side(node: ProcessNode, link_id: str) -> Side:
    found = node.api("GET", f"/federation/links/{link_id}")
    assert found.status_code == 200, found.text
    return Side(node, found.json()["versions"][0]["terms"][0]["clearing_account_id"])


def _ends_alike(payer: ProcessNode, payee: ProcessNode, transfer_ids: list[str]) -> int:
    """Every transfer settled at the payer and in the same final state at the payee; the
    minutes committed."""
    wait_settled(payer, transfer_ids)
    moved = 0
    for transfer_id in transfer_ids:
        ours, theirs = payer.transfer(transfer_id), payee.transfer(transfer_id)
        assert ours["state"] == theirs["state"] != "prepared", (ours, theirs)
        moved += ours["quote"]["amount_sent"] if ours["state"] == "committed" else 0
    return moved


def _reconciled(a: ProcessNode, link_id: str) -> None:
    """Both journals agree, once the seq messages of the last movements have been delivered
    (the acceptor holds a movement until the proposer's number for it arrives)."""
    deadline = time.monotonic() + 30
    while not (said := a.cli("federation", "reconcile", a.slug, link_id)).startswith(
        "agrees up to"
    ):
        assert time.monotonic() < deadline, said
        time.sleep(0.5)


class _Watch:
    """Reads both clearing accounts over and over while clients pay, and keeps what it saw."""

    def __init__(self, a: Side, b: Side) -> None:
        self.seen: list[tuple[dict[str, int], dict[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(a, b), daemon=True)

    def _run(self, a: Side, b: Side) -> None:
        while not self._stop.is_set():
            self.seen.append((a.balance(a.clearing_id), b.balance(b.clearing_id)))
            time.sleep(0.05)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _pay_until_answered(
    payer: ProcessNode, payee: ProcessNode, link_id: str, minutes: int
) -> httpx.Response:
    """A client that retries under its Idempotency-Key while the link's lock is too busy (on a
    loaded machine the lock bound can pass: ``lock_timeout``, nothing written, "retry")."""
    key = str(uuid.uuid4())
    for _ in range(10):
        answer = try_pay(payer, payee, link_id, minutes, key)
        if answer.status_code != 409 or answer.json()["code"] != "lock_timeout":
            break
    return answer


def _burst(payer: ProcessNode, payee: ProcessNode, link_id: str) -> list[str]:
    """16 clients on the payer's node pay 40 minutes each to the partner at once: the
    transfers the payer's node took. The refusals must be the link's limit and nothing else,
    and it must bind."""

    def client(_: int) -> str:
        answer = _pay_until_answered(payer, payee, link_id, 40)
        assert answer.status_code in (201, 422), answer.text
        taken: str = answer.json().get("id") or answer.json()["code"]
        return taken

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        taken = list(pool.map(client, range(CLIENTS)))
    refused = [t for t in taken if t == "link_limit_exceeded"]
    assert refused, "the limit never bound"
    return [t for t in taken if t != "link_limit_exceeded"]


def _both_ways(a: ProcessNode, b: ProcessNode, link_id: str) -> dict[str, list[str]]:
    """16 clients at once, half paying from each node (10 minutes each): the transfers each
    payer's node took, by payer."""

    def client(n: int) -> tuple[str, str]:
        payer, payee = (a, b) if n % 2 else (b, a)
        answer = _pay_until_answered(payer, payee, link_id, 10)
        assert answer.status_code in (201, 422), answer.text
        return payer.name, answer.json().get("id") or answer.json()["code"]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        taken = list(pool.map(client, range(CLIENTS)))
    return {
        name: [t for who, t in taken if who == name and t != "link_limit_exceeded"]
        for name in (a.name, b.name)
    }


def test_sixteen_clients_on_one_link_never_pass_either_side_s_limit(
    linked_nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    a, b, _ = linked_nodes
    start_both(a, b)
    link_id, a, b = link(a, b, f"HOURS:HOURS:1/1:{A_MAY_OWE}:{B_MAY_OWE}")
    new_members(a, b)
    sides = _side(a, link_id), _side(b, link_id)
    moved = {a.name: 0, b.name: 0}
    with _Watch(*sides) as watch:
        # A's limit binds (16 × 40 > 300), then B's (16 × 40 > 300 + 200).
        for payer, payee in ((a, b), (b, a)):
            moved[payer.name] += _ends_alike(payer, payee, _burst(payer, payee, link_id))
        # Then both ways at once: one journal order on both sides (the link's proposer numbers
        # every movement, ledger.federation.sequencing), checked by the reconciliation below.
        taken = _both_ways(a, b, link_id)
        for payer, payee in ((a, b), (b, a)):
            moved[payer.name] += _ends_alike(payer, payee, taken[payer.name])
    assert len(watch.seen) > 10
    # What each side owes, its own reservations counted (a side's clearing account only ever
    # has pending entries that raise it: its payers' holds; the partner's payments post at once).
    for at_a, at_b in watch.seen:
        assert at_a["posted"] + at_a["pending"] <= A_MAY_OWE and at_a["posted"] >= -B_MAY_OWE
        assert at_b["posted"] + at_b["pending"] <= B_MAY_OWE and at_b["posted"] >= -A_MAY_OWE
    a_owes = moved[a.name] - moved[b.name]
    assert -B_MAY_OWE <= a_owes <= A_MAY_OWE
    at_a, at_b = (side.balance(side.clearing_id) for side in sides)
    assert (at_a["posted"], at_a["pending"]) == (a_owes, 0)
    assert (at_b["posted"], at_b["pending"]) == (-a_owes, 0)
    assert a.hours() == (-a_owes, 0) and b.hours() == (a_owes, 0)  # the hours sum to zero
    _reconciled(a, link_id)


def _agree(a: ProcessNode, b: ProcessNode, link_id: str, transfer_ids: list[str]) -> None:
    moved = _ends_alike(a, b, transfer_ids)
    assert a.hours() == (-moved, 0)
    assert b.hours() == (moved, 0)
    _reconciled(a, link_id)


def test_the_payee_node_killed_between_deciding_and_answering_is_answered_after_restart(
    nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    a, b, link_id = nodes
    b.arm(PAYEE_AFTER_DECIDE, link_id)
    transfer_id = pay(a, b, link_id, 35)
    b.wait_killed()  # B committed its decision; its answer never left
    assert a.transfer(transfer_id)["state"] == "prepared"
    start_both(b)
    assert b.transfer(transfer_id)["state"] == "committed"
    assert wait_settled(a, [transfer_id]) == {transfer_id: "committed"}  # the inbox's answer
    _agree(a, b, link_id, [transfer_id])


def test_the_payee_node_down_longer_than_the_hold_window_ends_alike_on_both_sides(
    nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    """B decides one transfer and dies before answering; a second is made while B is down, so
    B never sees it. Both clocks pass the hold window (A keeps running and asking) before B
    comes back: A asks for the state, never voids on its own clock; the first ends committed
    on both sides, the second rejected on both (B's tombstone)."""
    a, b, link_id = nodes
    b.arm(PAYEE_AFTER_DECIDE, link_id)
    decided = pay(a, b, link_id, 15)
    b.wait_killed()
    unseen = pay(a, b, link_id, 20)
    advance_clocks(HOLD_WINDOW_S + 5, a, b)
    time.sleep(1.5)  # A, past the expiry, asks for the state — and B is down
    assert a.transfer(decided)["state"] == a.transfer(unseen)["state"] == "prepared"
    assert a.hours() == (0, -35)  # the holds stay reserved
    start_both(b)
    assert wait_settled(a, [decided, unseen]) == {decided: "committed", unseen: "rejected"}
    assert b.transfer(unseen)["reason"] == a.transfer(unseen)["reason"] == "quote_expired"
    _agree(a, b, link_id, [decided, unseen])


def test_the_payer_node_killed_before_settling_and_down_past_the_hold_window_settles(
    nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    """A dies between B's answer and recording it, and stays down past the hold window: back,
    its outbox asks B for the state instead of preparing, and settles as B decided."""
    a, b, link_id = nodes
    a.arm(PAYER_BEFORE_SETTLE, link_id)
    key = str(uuid.uuid4())
    with contextlib.suppress(httpx.TransportError):  # A may die before its answer leaves
        try_pay(a, b, link_id, 25, key)
    a.wait_killed()
    advance_clocks(HOLD_WINDOW_S + 5, a, b)
    start_both(a)
    made = try_pay(a, b, link_id, 25, key)  # the client asks again: the same transfer
    assert made.status_code == 201, made.text
    transfer_id = made.json()["id"]
    assert b.transfer(transfer_id)["state"] == "committed"
    assert wait_settled(a, [transfer_id]) == {transfer_id: "committed"}
    _agree(a, b, link_id, [transfer_id])


@pytest.fixture(autouse=True)
def _disarmed(linked_nodes: tuple[ProcessNode, ProcessNode, str]) -> Iterator[None]:
    """No kill left armed for the next test, whatever this one did."""
    yield
    for node in linked_nodes[:2]:
        node.kill_file.write_text("")
