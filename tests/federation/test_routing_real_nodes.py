"""Routing through a hub with three real nodes on loopback — ``commons-ledger serve`` for the payer
A (SQLite), the hub H (PostgreSQL) and the payee C (SQLite), linked A–H and H–C by ``federation
invite`` / ``accept-invite`` — driven through the HTTP API: the wiring of
``api.bootstrap`` carries a routed transfer to its end (the protocol's cases are in
``test_routing_between_nodes.py``, in one process). One test: starting nodes is the cost."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from ledger.federation.routing import hop_id
from tests.api.conftest import ADMIN_TOKEN
from tests.databases import postgres_database, sqlite_url
from tests.federation.processes import ProcessNode, new_members, start_both, wait_settled

_HOLD_WINDOW_S = 300  # a route needs 120 s left at the hub (routing.HOP_MARGIN twice)


def _community(node: ProcessNode, name: str) -> None:
    node.slug = f"{name.lower()}-{uuid.uuid4().hex[:8]}"
    made = httpx.post(
        f"{node.url}/api/v1/communities",
        json={"slug": node.slug, "name": name},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text


def _link(one: ProcessNode, other: ProcessNode) -> str:
    """``one`` invites ``other``; the link's id."""
    terms = ("--terms", "HOURS:HOURS:1/1:6000:6000", "--hold-window", str(_HOLD_WINDOW_S))
    invitation = one.cli("federation", "invite", one.slug, *terms).strip()
    accepted = other.cli("federation", "accept-invite", other.slug, invitation).splitlines()
    return one.cli("federation", "accept-invite", one.slug, accepted[-1].strip()).split()[1]


def _pay(a: ProcessNode, link_id: str, c: ProcessNode, payee_id: str, minutes: int) -> str:
    body = {
        "link_id": link_id,
        "payer_member_id": a.member["id"],
        "payee_member_id": payee_id,
        "commodity": "HOURS",
        "amount": minutes,
        "destination": c.slug,
    }
    made = a.api("POST", "/federation/transfers", json=body)
    assert made.status_code == 201 and made.json()["state"] == "prepared", made.text
    transfer_id: str = made.json()["id"]
    return transfer_id


def test_a_transfer_routed_through_a_hub_on_a_third_real_node(tmp_path: Path) -> None:
    with postgres_database("cl_fed") as hub_url:
        a = ProcessNode("A", sqlite_url(tmp_path / "a.db"), tmp_path / "a.log")
        h = ProcessNode("H", hub_url, tmp_path / "h.log")
        c = ProcessNode("C", sqlite_url(tmp_path / "c.db"), tmp_path / "c.log")
        try:
            start_both(a, h, c)
            for node, name in ((a, "Riverside"), (h, "Commons"), (c, "Valley")):
                _community(node, name)
            ah, hc = _link(a, h), _link(h, c)
            new_members(a, c)

            paid = _pay(a, ah, c, c.member["id"], 60)
            refused = _pay(a, ah, c, str(uuid.uuid4()), 15)  # no such member at C
            assert wait_settled(a, [paid, refused]) == {paid: "committed", refused: "rejected"}

            assert a.hours() == (-60, 0) and c.hours() == (60, 0)
            assert a.transfer(refused)["reason"] == "member_not_found"
            hop = str(hop_id(uuid.UUID(paid), uuid.UUID(hc)))
            assert h.transfer(paid)["state"] == h.transfer(hop)["state"] == "committed"
            assert c.transfer(hop)["state"] == "committed"
            for node, link_id in ((a, ah), (h, hc)):
                reconciled = node.cli("federation", "reconcile", node.slug, link_id)
                assert reconciled.startswith("agrees up to 1"), reconciled
        finally:
            for node in (a, h, c):
                node.stop()
