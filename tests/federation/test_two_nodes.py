"""Two real nodes on loopback — ``commons-ledger serve`` on SQLite (the payer's, A) and on
PostgreSQL (the payee's, B) — linked by invitation, with cross transfers over HTTP, SIGKILL of
either node, and afterwards: every transfer posted on both sides or voided on both, none twice,
the journals agree (``commons-ledger federation reconcile``), and the hours moved sum to zero."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN
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
    # B's journal takes the movements A paid once A's `sequence` messages arrive (A proposed
    # the link and keeps its order): the API's read on B, by signed checkpoints, agrees then.
    deadline = time.monotonic() + 30
    while True:
        read = b.api("GET", f"/federation/links/{link_id}/reconciliation")
        assert read.status_code == 200, read.text
        if read.json()["agrees"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    result = read.json()
    assert result["agrees"] and result["books_agree"], result
    assert result["checkpoint"]["mirror"] and result["checkpoint"]["problem"] is None
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


def _link_status(node: ProcessNode, link_id: str, status: str) -> None:
    """Waits until the node's side of the link has ``status`` (its app's courier delivers)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = node.api("GET", f"/federation/links/{link_id}")
        assert found.status_code == 200, found.text
        if found.json()["status"] == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"{node.name}'s side of the link is not {status} in 30 s")


def test_a_suspension_over_the_api_reaches_the_partner_node_and_its_resumption_too(
    nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    """The app's own wiring (``api.bootstrap``) of the link messages, over real HTTP."""
    a, b, link_id = nodes
    for action, status in (("suspend", "suspended"), ("resume", "active")):
        changed = a.api("POST", f"/federation/links/{link_id}/{action}")
        assert changed.status_code == 200, changed.text
        _link_status(b, link_id, status)
        if status == "suspended":
            refused = b.api(
                "POST",
                "/federation/transfers",
                json={
                    "link_id": link_id,
                    "payer_member_id": b.member["id"],
                    "payee_member_id": a.member["id"],
                    "commodity": "HOURS",
                    "amount": 5,
                },
            )
            assert refused.status_code == 409 and refused.json()["code"] == "link_not_active"
    transfer_id = pay(a, b, link_id, 15)
    assert wait_settled(a, [transfer_id]) == {transfer_id: "committed"}


def _member_token(node: ProcessNode, member_id: str, slug: str | None = None) -> dict[str, str]:
    made = httpx.post(
        f"{node.url}/api/v1/communities/{slug or node.slug}/members/{member_id}/tokens",
        json={},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _as(
    node: ProcessNode, token: dict[str, str], method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """``node.api`` with another bearer token than the operator's."""
    return httpx.request(
        method,
        f"{node.url}/api/v1/communities/{node.slug}{path}",
        headers=token,
        timeout=10,
        **kwargs,
    )


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, f"not in 30 s: {what}"
        time.sleep(0.05)


def test_a_cross_exchange_between_two_real_nodes_over_http(
    nodes: tuple[ProcessNode, ProcessNode, str],
) -> None:
    """Listed on B, found in A's directory, recorded on A, confirmed on B by its member; the
    hours cross once. Member tokens see only their own member's rows; another community's
    keys see nothing."""
    a, b, link_id = nodes
    ann, bob = _member_token(a, a.member["id"]), _member_token(b, b.member["id"])
    listed = _as(b, bob, "PUT", "/federation/directory/me", json={"listed": True})
    assert listed.status_code == 200, listed.text
    directory = _as(a, ann, "GET", "/federation/directory").json()
    assert [(x["member_id"], x["community_name"]) for x in directory] == [
        (b.member["id"], "Hilltop")
    ]
    recorded = _as(
        a,
        ann,
        "POST",
        "/federation/exchanges",
        json={
            "link_id": link_id,
            "member_id": a.member["id"],
            "role": "provider",
            "partner_member_id": b.member["id"],
            "minutes": 75,
            "description": "Taught the bread recipe",
        },
    )
    assert recorded.status_code == 201, recorded.text
    path = f"/federation/exchanges/{recorded.json()['id']}"
    _until(lambda: _as(b, bob, "GET", path).status_code == 200, "the record at B")
    assert _as(b, bob, "GET", path).json()["partner_name"] == f"Member of {a.slug}"

    other = b.api("POST", "/members", json={"name": "Someone else"}).json()
    assert _as(b, _member_token(b, other["id"]), "GET", path).status_code == 404
    elsewhere = httpx.post(
        f"{b.url}/api/v1/communities",
        json={"slug": f"elsewhere-{uuid.uuid4().hex[:8]}", "name": "Elsewhere"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    ).json()
    stranger = httpx.post(
        f"{b.url}/api/v1/communities/{elsewhere['slug']}/members",
        json={"name": "Stranger"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    ).json()
    strange = _member_token(b, stranger["id"], elsewhere["slug"])
    assert _as(b, strange, "GET", path).status_code == 404

    confirmed = _as(b, bob, "POST", f"{path}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirming"
    _until(lambda: b.api("GET", path).json()["status"] == "confirmed", "confirmed at B")
    assert a.api("GET", path).json()["status"] == "confirmed"
    assert a.hours() == (75, 0) and b.hours() == (-75, 0)
    assert a.cli("federation", "reconcile", a.slug, link_id).startswith("agrees up to")
