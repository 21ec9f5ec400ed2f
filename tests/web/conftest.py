"""A member-page application per test on the session's migrated database, and members with
tokens in a community of their own."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.settings import Settings
from api.web.settings import WebSettings
from ledger.access.credentials import Access
from ledger.books.service import Ledger
from ledger.kernel.model import Community, Member
from ledger.store import SqlUnitOfWorkFactory

SIGN_INS_PER_MINUTE = 5
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page carries a CSRF token"
    return found.group(1)


@pytest.fixture
async def web(database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = WebSettings(sign_in_per_minute=SIGN_INS_PER_MINUTE)
    app = create_app(Settings(database_url=database_url), settings)
    async with AsyncTestClient(app) as client:
        yield client


@dataclass
class People:
    community: Community
    ann: Member
    bob: Member
    cy: Member
    tokens: dict[str, str]
    """Member tokens by first name."""


@pytest.fixture
def access(engine: AsyncEngine) -> Access:
    return Access(SqlUnitOfWorkFactory(engine))


@pytest.fixture
async def people(ledger: Ledger, access: Access, community: Community) -> People:
    """Ann, Bob and Cy, each allowed to receive 10 hours more than they give."""
    members = [
        await ledger.create_member(community.id, name, hours_min=-600)
        for name in ("Ann", "Bob", "Cy")
    ]
    tokens = {}
    for member in members:
        _, tokens[member.name] = await access.issue_member_token(community.id, member.id, "t")
    ann, bob, cy = members
    return People(community, ann, bob, cy, tokens)


async def sign_in(client: AsyncTestClient[Litestar], token: str) -> None:
    form = await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"token": token, "_csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


async def post_form(
    client: AsyncTestClient[Litestar], path: str, data: dict[str, str], page: str = "/exchanges"
) -> httpx.Response:
    """Posts a form the way the browser does: with the CSRF token of the page it is on."""
    shown = await client.get(page)
    return await client.post(
        path, data={**data, "_csrf_token": csrf_of(shown.text)}, follow_redirects=False
    )
