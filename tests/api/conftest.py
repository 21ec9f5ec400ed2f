"""An application per test on the session's migrated database, with a bootstrap admin token."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings

ADMIN_TOKEN = "test-operator-token-0123456789"


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(Settings(database_url=database_url, admin_token=ADMIN_TOKEN))
    async with AsyncTestClient(app) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)


@dataclass
class Tenant:
    """A community set up through the API: a treasurer key and two members with personal
    tokens (issued by the operator)."""

    slug: str
    treasurer: dict[str, str]
    ann: dict[str, object]
    bob: dict[str, object]
    ann_token: dict[str, str]
    bob_token: dict[str, str]

    @property
    def base(self) -> str:
        return f"/api/v1/communities/{self.slug}"


async def make_tenant(client: AsyncTestClient[Litestar]) -> Tenant:
    slug = f"t-{uuid.uuid4().hex[:10]}"
    created = await client.post(
        "/api/v1/communities", json={"slug": slug, "name": "T"}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    base = f"/api/v1/communities/{slug}"
    key = await client.post(f"{base}/api-keys", json={"scopes": ["treasurer"]}, headers=ADMIN)
    assert key.status_code == 201, key.text
    treasurer = bearer(key.json()["token"])
    people = []
    tokens = []
    for name in ("Ann", "Bob"):
        member = await client.post(
            f"{base}/members", json={"name": name, "hours_min": -600}, headers=treasurer
        )
        assert member.status_code == 201, member.text
        # The operator's: a token the treasurer key issued would never act in a governance role.
        token = await client.post(
            f"{base}/members/{member.json()['id']}/tokens", json={}, headers=ADMIN
        )
        assert token.status_code == 201, token.text
        people.append(member.json())
        tokens.append(bearer(token.json()["token"]))
    return Tenant(slug, treasurer, people[0], people[1], tokens[0], tokens[1])


@pytest.fixture
async def tenant(client: AsyncTestClient[Litestar]) -> Tenant:
    return await make_tenant(client)
