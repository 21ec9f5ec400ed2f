"""Two real nodes: ``commons-ledger serve`` processes on loopback, A on SQLite and B on
PostgreSQL, linked by ``commons-ledger federation invite`` / ``accept-invite`` as two stewards
would, and driven through the HTTP API (``tests/faults/server.py`` starts each)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import ADMIN_TOKEN
from tests.faults.cluster import free_port
from tests.faults.server import Server, executable, start_server

SETTLE_TIMEOUT_S = 30.0
HOLD_WINDOW_S = 90


@dataclass
class ProcessNode:
    name: str
    database_url: str
    log: Path
    port: int = field(default_factory=free_port)
    server: Server | None = None
    slug: str = ""
    member: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def kill_file(self) -> Path:
        """Names the step at which the node kills itself (``api.peer_faults``)."""
        return self.log.with_suffix(".kill")

    @property
    def clock_file(self) -> Path:
        """Seconds added to the node's federation clock (``api.peer_faults``)."""
        return self.log.with_suffix(".clock")

    def env(self) -> dict[str, str]:
        return {
            "COMMONS_LEDGER_TEST_KILL_FILE": str(self.kill_file),
            "COMMONS_LEDGER_TEST_CLOCK_FILE": str(self.clock_file),
            "COMMONS_LEDGER_DATABASE_URL": self.database_url,
            "COMMONS_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
            "COMMONS_LEDGER_NODE_URL": self.url,
            "COMMONS_LEDGER_PEER_ALLOW": "127.0.0.1",
            "COMMONS_LEDGER_PEER_POLL_MS": "100",
            "COMMONS_LEDGER_PEER_RETRY_BASE_MS": "100",
            "COMMONS_LEDGER_PEER_RETRY_CAP_MS": "500",
            "COMMONS_LEDGER_PEER_TIMEOUT_S": "1",
            "COMMONS_LEDGER_JOBS_INTERVAL_S": "0",
        }

    def cli(self, *arguments: str) -> str:
        """Runs ``commons-ledger …`` on this node's database; its standard output."""
        done = self.run_cli(*arguments)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout

    def run_cli(self, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Runs ``commons-ledger …`` on this node's database, ``env`` over the node's."""
        return subprocess.run(
            [executable(), *arguments],
            env={**os.environ, **self.env(), **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start(self) -> None:
        self.server = start_server(self.database_url, self.log, self.env(), port=self.port)

    def kill(self) -> None:
        assert self.server is not None
        self.server.kill()

    def arm(self, point: str, link_id: str) -> None:
        """The node kills itself when it reaches ``point`` with a message of the link (once)."""
        self.kill_file.write_text(f"{point} {link_id}")

    def wait_killed(self) -> None:
        """Waits until the armed node has killed itself."""
        assert self.server is not None
        assert self.server.process.wait(timeout=SETTLE_TIMEOUT_S) == -signal.SIGKILL
        assert self.kill_file.read_text() == ""

    def in_new_community(self, name: str) -> ProcessNode:
        """The same running node, seen through a new community of its own."""
        slug = f"{name.lower()}-{uuid.uuid4().hex[:8]}"
        made = httpx.post(
            f"{self.url}/api/v1/communities",
            json={"slug": slug, "name": name},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10,
        )
        assert made.status_code == 201, made.text
        return replace(self, slug=slug, member={})

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def api(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.url}/api/v1/communities/{self.slug}{path}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", **(headers or {})},
            timeout=10,
            **kwargs,
        )

    def hours(self) -> tuple[int, int]:
        found = self.api("GET", f"/accounts/{self.member['hours_account_id']}/balance")
        assert found.status_code == 200, found.text
        return found.json()["posted"], found.json()["pending"]

    def transfer(self, transfer_id: str) -> dict[str, Any]:
        found = self.api("GET", f"/federation/transfers/{transfer_id}")
        assert found.status_code == 200, found.text
        body: dict[str, Any] = found.json()
        return body


def set_up(a: ProcessNode, b: ProcessNode) -> str:
    """Both nodes started, a community on each, linked by invitation; the link's id."""
    start_both(a, b)
    link_id, a_side, b_side = link(a, b, "HOURS:HOURS:1/1:6000:6000")
    a.slug, b.slug = a_side.slug, b_side.slug
    return link_id


def link(
    a: ProcessNode, b: ProcessNode, terms: str, *, b_seen_at: str | None = None
) -> tuple[str, ProcessNode, ProcessNode]:
    """A new community on each node, linked by invitation with ``terms`` (A's view, as
    ``federation invite --terms`` takes them): the link's id and the two nodes seen through
    the new communities (start and kill the nodes through the originals). ``b_seen_at``: the
    URL B's acceptance gives A instead of B's own (where nothing answers: a partner gone)."""
    a, b = a.in_new_community("Riverside"), b.in_new_community("Hilltop")
    invitation = a.cli(
        "federation", "invite", a.slug, "--terms", terms, "--hold-window", str(HOLD_WINDOW_S)
    ).strip()
    seen_at = {"COMMONS_LEDGER_NODE_URL": b_seen_at} if b_seen_at else {}
    done = b.run_cli("federation", "accept-invite", b.slug, invitation, **seen_at)
    assert done.returncode == 0, done.stderr
    accepted = done.stdout.splitlines()
    completed = a.cli("federation", "accept-invite", a.slug, accepted[-1].strip())
    return completed.split()[1], a, b


def advance_clocks(seconds: float, *nodes: ProcessNode) -> None:
    """Moves the federation clocks of ``nodes`` forward together, running or not."""
    for node in nodes:
        before = float(node.clock_file.read_text() or 0) if node.clock_file.exists() else 0.0
        node.clock_file.write_text(str(before + seconds))


def start_both(*nodes: ProcessNode) -> None:
    """Starts the nodes that are not running, at the same time."""
    stopped = [n for n in nodes if n.server is None or n.server.process.poll() is not None]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(ProcessNode.start, stopped))


def new_members(*nodes: ProcessNode) -> None:
    """A fresh member on each node, so that each test counts only its own transfers."""
    start_both(*nodes)
    for node in nodes:
        made = node.api(
            "POST", "/members", json={"name": f"Member of {node.slug}", "hours_min": -6000}
        )
        assert made.status_code == 201, made.text
        node.member = made.json()


def pay(a: ProcessNode, b: ProcessNode, link_id: str, minutes: int) -> str:
    made = try_pay(a, b, link_id, minutes)
    assert made.status_code == 201, made.text
    transfer_id: str = made.json()["id"]
    return transfer_id


def try_pay(
    a: ProcessNode, b: ProcessNode, link_id: str, minutes: int, key: str | None = None
) -> httpx.Response:
    """A's member pays B's member over the link (under the Idempotency-Key ``key``, if given):
    the API's answer."""
    return a.api(
        "POST",
        "/federation/transfers",
        json={
            "link_id": link_id,
            "payer_member_id": a.member["id"],
            "payee_member_id": b.member["id"],
            "commodity": "HOURS",
            "amount": minutes,
        },
        headers={"Idempotency-Key": key} if key else None,
    )


def wait_settled(a: ProcessNode, transfer_ids: list[str]) -> dict[str, str]:
    """Each transfer's final state at the payer's node (the payee node answered)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {t: a.transfer(t)["state"] for t in transfer_ids}
        if "prepared" not in states.values():
            return states
        time.sleep(0.1)
    raise AssertionError(f"not settled in {SETTLE_TIMEOUT_S} s: {states}")
