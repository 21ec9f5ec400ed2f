"""Two real nodes on loopback — ``commons-ledger serve`` on SQLite (the payer's, A) and on
PostgreSQL (the payee's, B) — linked by invitation, with cross transfers over HTTP, SIGKILL of
either node, and afterwards: every transfer posted on both sides or voided on both, none twice,
the journals agree (``commons-ledger federation reconcile``), and the hours moved sum to zero."""

from __future__ import annotations

import time

import pytest

from tests.federation.processes import ProcessNode, new_members, pay, start_both, wait_settled


@pytest.fixture
def nodes(
    linked_nodes: tuple[ProcessNode, ProcessNode, str],
) -> tuple[ProcessNode, ProcessNode, str]:
    """The linked nodes, both running, with a fresh member on each."""
    a, b, _ = linked_nodes
    new_members(a, b)
    return linked_nodes


def _decided_by(node: ProcessNode) -> int:
    """How many transfers the node's community has committed (the tests make fewer than 200)."""
    listed = node.api("GET", "/federation/transfers", params={"limit": 200})
    assert listed.status_code == 200, listed.text
    return sum(t["state"] == "committed" for t in listed.json()["items"])


def _until_decided_by(node: ProcessNode, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _decided_by(node) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{node.name} decided nothing in 30 s")


def _agree(a: ProcessNode, b: ProcessNode, link_id: str, transfer_ids: list[str]) -> None:
    """Every transfer in the same final state on both nodes; books and journals agree."""
    moved = 0
    for transfer_id in transfer_ids:
        payer, payee = a.transfer(transfer_id), b.transfer(transfer_id)
        assert payer["state"] == payee["state"] != "prepared", (payer, payee)
        if payer["state"] == "committed":
            moved += payer["quote"]["amount_sent"]
    assert a.hours() == (-moved, 0)
    assert b.hours() == (moved, 0)
    assert a.cli("federation", "reconcile", a.slug, link_id).startswith("agrees up to")


def test_a_cross_transfer_between_two_real_nodes_posts_on_both(
    nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    a, b, link_id = nodes
    transfers = [pay(a, b, link_id, minutes) for minutes in (60, 30)]
    assert set(wait_settled(a, transfers).values()) == {"committed"}
    _agree(a, b, link_id, transfers)


def test_the_payer_node_killed_after_prepare_finishes_after_its_restart(
    nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    a, b, link_id = nodes
    b.kill()  # the prepare cannot leave A
    transfer_id = pay(a, b, link_id, 45)
    assert a.hours() == (0, -45)
    a.kill()  # SIGKILL with the prepare in A's outbox
    start_both(a, b)
    assert wait_settled(a, [transfer_id]) == {transfer_id: "committed"}
    _agree(a, b, link_id, [transfer_id])


def test_the_payee_node_killed_mid_stream_ends_with_both_sides_alike(
    nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    a, b, link_id = nodes
    before = _decided_by(b)
    transfers = [pay(a, b, link_id, 10 + i) for i in range(6)]
    _until_decided_by(b, before + 1)  # then some are decided by B, some answered, some not sent
    b.kill()
    transfers += [pay(a, b, link_id, 20)]
    start_both(b)
    wait_settled(a, transfers)
    _agree(a, b, link_id, transfers)
