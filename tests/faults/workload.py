"""Clients that post transfers and exchanges at full speed, each write under its own
idempotency key, remembering what was acknowledged; and the checks run after a fault.

A write is *acknowledged* when a response arrived; it is *in flight* when the connection broke
before one did (the server was killed) or the answer was a retryable 503/409. After the fault,
every write is sent again under its key until it settles: an acknowledged write must answer its
first response byte for byte, an in-flight one must settle once and then answer the same again.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from tests.api.conftest import ADMIN

RETRYABLE = {503, 409}
"""409 only with a retryable code: ``idempotency_in_flight`` or ``lock_timeout``."""
_RETRYABLE_CODES = {"idempotency_in_flight", "lock_timeout", "database_unavailable"}
_RETRYABLE_CODES |= {"statement_timeout"}


@dataclass
class Write:
    path: str
    body: dict[str, Any]
    kind: str
    """``transfer``, ``exchange`` (records one, pending) or ``confirm`` (posts it)."""
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: int | None = None
    content: bytes | None = None
    sent_at: float = 0.0
    """``time.monotonic()`` when first sent."""

    @property
    def settled(self) -> bool:
        return self.status is not None and not retryable(self.status, self.content or b"")


def retryable(status: int, content: bytes) -> bool:
    if status not in RETRYABLE:
        return False
    return any(code.encode() in content for code in _RETRYABLE_CODES)


@dataclass
class Tenant:
    base: str
    treasurer: dict[str, str]
    members: list[dict[str, Any]]


async def make_tenant(client: httpx.AsyncClient, members: int = 6) -> Tenant:
    slug = f"f-{uuid.uuid4().hex[:10]}"
    created = await client.post(
        "/api/v1/communities", json={"slug": slug, "name": "F"}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    base = f"/api/v1/communities/{slug}"
    key = await client.post(f"{base}/api-keys", json={"scopes": ["treasurer"]}, headers=ADMIN)
    assert key.status_code == 201, key.text
    treasurer = {"Authorization": f"Bearer {key.json()['token']}"}
    people = []
    for number in range(members):
        # Tight limits, so that some writes are refused: refusals must replay as well.
        body = {"name": f"Member {number}", "hours_min": -240, "hours_max": 240}
        member = await client.post(f"{base}/members", json=body, headers=treasurer)
        assert member.status_code == 201, member.text
        people.append(member.json())
    return Tenant(base, treasurer, people)


async def send(client: httpx.AsyncClient, tenant: Tenant, write: Write) -> None:
    """Sends ``write`` once; a broken connection leaves it unacknowledged."""
    headers = tenant.treasurer | {"Idempotency-Key": write.key}
    response = await client.post(write.path, json=write.body, headers=headers)
    write.status, write.content = response.status_code, response.content


class Writer:
    """One client: transfers and exchanges (recorded, then confirmed) between random members."""

    def __init__(self, client: httpx.AsyncClient, tenant: Tenant, seed: int) -> None:
        self.client = client
        self.tenant = tenant
        self.rng = random.Random(seed)
        self.writes: list[Write] = []
        self.broken_connections = 0
        self.slowest_s = 0.0

    def _next(self) -> Write:
        giver, taker = self.rng.sample(self.tenant.members, 2)
        amount = self.rng.randint(1, 90)
        if self.rng.random() < 0.6:
            body = {
                "debit_account_id": taker["hours_account_id"],
                "credit_account_id": giver["hours_account_id"],
                "amount": amount,
                "description": "help",
            }
            return Write(f"{self.tenant.base}/transfers", body, "transfer")
        body = {
            "provider_member_id": giver["id"],
            "receiver_member_id": taker["id"],
            "minutes": amount,
            "description": "an hour of help",
        }
        return Write(f"{self.tenant.base}/exchanges", body, "exchange")

    async def run(self, stop: asyncio.Event, *, through_errors: bool) -> None:
        """Writes until ``stop``; a confirm follows each recorded exchange. Without
        ``through_errors`` the first broken connection ends the client (its server is gone)."""
        while not stop.is_set():
            write = self._next()
            if not await self._attempt(write, through_errors):
                return
            if write.kind == "exchange" and write.status == 201:
                exchange_id = httpx.Response(201, content=write.content).json()["id"]
                confirm = Write(
                    f"{self.tenant.base}/exchanges/{exchange_id}/confirm", {}, "confirm"
                )
                if not await self._attempt(confirm, through_errors):
                    return

    async def _attempt(self, write: Write, through_errors: bool) -> bool:
        self.writes.append(write)
        started = write.sent_at = time.monotonic()
        try:
            await send(self.client, self.tenant, write)
        except httpx.TransportError:
            self.broken_connections += 1
            if not through_errors:
                return False
            await asyncio.sleep(0.05)
        else:
            self.slowest_s = max(self.slowest_s, time.monotonic() - started)
            if write.status in RETRYABLE:
                await asyncio.sleep(0.05)
        return True


async def settle(
    client: httpx.AsyncClient, tenant: Tenant, write: Write, timeout_s: float = 30
) -> tuple[int, bytes]:
    """Sends ``write`` under its key until it is no longer retryable; its final response."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = await client.post(
            write.path, json=write.body, headers=tenant.treasurer | {"Idempotency-Key": write.key}
        )
        if not retryable(response.status_code, response.content):
            return response.status_code, response.content
        assert time.monotonic() < deadline, f"{write.path} stays {response.status_code}"
        await asyncio.sleep(0.1)


async def settle_all(client: httpx.AsyncClient, tenant: Tenant, writes: list[Write]) -> int:
    """Retries every write under its key. An acknowledged, settled write must answer its first
    response again byte for byte; every other one settles, and then answers the same again.
    Returns how many writes were in flight."""
    in_flight = 0
    for write in writes:
        status, content = await settle(client, tenant, write)
        if write.settled:
            assert (status, content) == (write.status, write.content), write
        else:
            in_flight += 1
            again = await settle(client, tenant, write)
            assert again == (status, content), write
            write.status, write.content = status, content
        assert status < 500, (write, content)
    return in_flight


async def check_books(
    client: httpx.AsyncClient, tenant: Tenant, writes: list[Write], database_url: str
) -> None:
    """Exactly the entries of the successful writes exist, each in the state its writes left
    it; no entry is partial; the maintained balances and the per-commodity sums hold."""
    expected: dict[str, str] = {}
    for write in writes:
        assert write.status is not None and write.content is not None
        if write.kind in ("transfer", "exchange") and write.status == 201:
            entry_id = httpx.Response(201, content=write.content).json()["id"]
            assert entry_id not in expected, "two writes produced one entry"
            expected[entry_id] = "posted" if write.kind == "transfer" else "pending"
    for write in writes:
        if write.kind == "confirm" and write.status == 200:
            expected[write.path.split("/")[-2]] = "posted"
    stored = await _entry_statuses(client, tenant)
    assert stored == expected
    assert await invariant_violations(database_url) == []
    trial = (await client.get(f"{tenant.base}/trial-balance", headers=tenant.treasurer)).json()
    for commodity in trial["commodities"]:
        assert commodity["total_debit"] == commodity["total_credit"], commodity


async def _entry_statuses(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    found: dict[str, str] = {}
    cursor: str | None = None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(f"{tenant.base}/entries", params=params, headers=tenant.treasurer)
        ).json()
        found |= {entry["id"]: entry["status"] for entry in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return found


_VIOLATIONS = {
    "entry with fewer than two postings": """
        SELECT e.id FROM entries e LEFT JOIN postings p
          ON p.community_id = e.community_id AND p.entry_id = e.id
        GROUP BY e.id HAVING count(p.line) < 2""",
    "entry not balanced per commodity": """
        SELECT entry_id FROM postings GROUP BY entry_id, commodity HAVING sum(amount) <> 0""",
    "account counters differ from its postings": """
        SELECT a.id FROM accounts a LEFT JOIN (
            SELECT p.community_id, p.account_id,
              sum(CASE WHEN e.status = 'posted' AND p.amount > 0 THEN p.amount ELSE 0 END) AS dp,
              sum(CASE WHEN e.status = 'posted' AND p.amount < 0 THEN -p.amount ELSE 0 END) AS cp,
              sum(CASE WHEN e.status = 'pending' AND p.amount > 0 THEN p.amount ELSE 0 END) AS dq,
              sum(CASE WHEN e.status = 'pending' AND p.amount < 0 THEN -p.amount ELSE 0 END) AS cq
            FROM postings p JOIN entries e
              ON e.community_id = p.community_id AND e.id = p.entry_id
            GROUP BY p.community_id, p.account_id) s
          ON s.community_id = a.community_id AND s.account_id = a.id
        WHERE a.debits_posted <> coalesce(s.dp, 0) OR a.credits_posted <> coalesce(s.cp, 0)
           OR a.debits_pending <> coalesce(s.dq, 0) OR a.credits_pending <> coalesce(s.cq, 0)""",
    "a commodity's balances do not sum to zero": """
        SELECT community_id, commodity FROM accounts GROUP BY community_id, commodity
        HAVING sum(debits_posted - credits_posted) <> 0
            OR sum(debits_pending - credits_pending) <> 0""",
}


async def invariant_violations(database_url: str) -> list[str]:
    """Every broken invariant of the whole database, read with plain SQL."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        found = []
        for name, query in _VIOLATIONS.items():
            rows = await connection.fetch(query)
            found += [f"{name}: {tuple(row)}" for row in rows]
        return found
    finally:
        await connection.close()
