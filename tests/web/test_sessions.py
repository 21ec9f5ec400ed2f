"""Web sessions are tied to the member token they came from, and are no bearer tokens
(issue 18, M2); the page's writes are audited as the member (issue 18, "Also")."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from api.web.session import SESSION_COOKIE
from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.kernel.clock import utc_now
from ledger.store import SqlUnitOfWorkFactory
from tests.web.conftest import People, csrf_of, post_form, sign_in

Client = AsyncTestClient[Litestar]


async def _page_answers(web: Client) -> bool:
    """Whether the session cookie still opens the member's page (else: back to sign-in)."""
    response = await web.get("/exchanges", follow_redirects=False)
    assert response.status_code in {200, 303}, response.text
    return response.status_code == 200


async def test_the_session_cookie_is_no_bearer_token(web: Client, people: People) -> None:
    await sign_in(web, people.tokens["Ann"])
    session = web.cookies[SESSION_COOKIE]
    path = f"/api/v1/communities/{people.community.slug}/members/{people.ann.id}"
    as_bearer = await web.get(path, headers={"Authorization": f"Bearer {session}"})
    assert as_bearer.status_code == 401
    member_token = {"Authorization": f"Bearer {people.tokens['Ann']}"}
    assert (await web.get(path, headers=member_token)).status_code == 200
    # Nor does a session's secret sign in as a member token would.
    web.cookies.clear()
    form = await web.get("/sign-in")
    pasted = await web.post("/sign-in", data={"token": session, "_csrf_token": csrf_of(form.text)})
    assert pasted.status_code == 401


async def test_revoking_the_member_token_ends_its_sessions(
    web: Client, people: People, engine: AsyncEngine
) -> None:
    """Revoked by another process (its own ``Access``, no shared memory): the session ends
    within the credential cache's bound, as the token does; revoked through the serving process
    it ends at once (tests/ledger/test_access.py, ``…_ends_with_its_member_token``)."""
    other = Access(SqlUnitOfWorkFactory(engine), cache_ttl=timedelta(0))
    credential, token = await other.issue_member_token(people.community.id, people.ann.id, "p")
    await sign_in(web, token)
    assert await _page_answers(web)
    await other.revoke(people.community.id, credential.id)
    await asyncio.sleep(5.1)  # CREDENTIAL_CACHE_TTL of the app's Access
    assert not await _page_answers(web)


async def test_a_session_expires_with_its_member_token(
    web: Client, people: People, access: Access
) -> None:
    _, token = await access.issue_member_token(
        people.community.id, people.ann.id, "p", expires_at=utc_now() + timedelta(seconds=1)
    )
    await sign_in(web, token)
    assert await _page_answers(web)
    await asyncio.sleep(1.2)
    assert not await _page_answers(web)


async def test_revoking_all_of_a_members_credentials_ends_their_sessions(
    web: Client, people: People, access: Access
) -> None:
    await sign_in(web, people.tokens["Ann"])
    _, key = await access.issue_api_key(people.community.id, "t", frozenset({Scope.TREASURER}))
    base = f"/api/v1/communities/{people.community.slug}/members"
    treasurer = {"Authorization": f"Bearer {key}"}
    revoked = await web.delete(f"{base}/{people.ann.id}/tokens", headers=treasurer)
    assert (revoked.status_code, revoked.json()) == (200, {"revoked": 2}), revoked.text
    assert not await _page_answers(web)
    ann = {"Authorization": f"Bearer {people.tokens['Ann']}"}
    assert (await web.get(f"{base}/{people.ann.id}", headers=ann)).status_code == 401
    # A member revokes their own (a lost phone), never another's.
    bob = {"Authorization": f"Bearer {people.tokens['Bob']}"}
    assert (await web.delete(f"{base}/{people.cy.id}/tokens", headers=bob)).status_code == 404
    mine = await web.delete(f"{base}/{people.bob.id}/tokens", headers=bob)
    assert (mine.status_code, mine.json()) == (200, {"revoked": 1})
    assert (await web.get(f"{base}/{people.bob.id}", headers=bob)).status_code == 401
    read = await access.issue_api_key(people.community.id, "r", frozenset({Scope.WRITE}))
    refused = await web.delete(
        f"{base}/{people.cy.id}/tokens", headers={"Authorization": f"Bearer {read[1]}"}
    )
    assert refused.status_code == 403


async def test_sign_in_and_the_pages_writes_are_audited_as_the_member(
    web: Client, people: People, access: Access
) -> None:
    await sign_in(web, people.tokens["Ann"])
    form = {"receiver": str(people.bob.id), "hours": "1", "minutes": "0", "description": "Soup"}
    assert (await post_form(web, "/exchanges", form)).status_code == 303
    shown = await web.get("/")
    await web.post("/sign-out", data={"_csrf_token": csrf_of(shown.text)})
    _, key = await access.issue_api_key(people.community.id, "t", frozenset({Scope.TREASURER}))
    trail = await web.get(
        f"/api/v1/communities/{people.community.slug}/audit?limit=100",
        headers={"Authorization": f"Bearer {key}"},
    )
    records = trail.json()["items"]
    by_ann = [
        r["operation"]
        for r in records
        if (r["actor_kind"], r["member_id"]) == ("member", str(people.ann.id))
    ]
    assert by_ann == ["issue_member", "post_entry", "revoke_credential"], records
    assert all(r["request_id"] for r in records if r["actor_kind"] == "member")
