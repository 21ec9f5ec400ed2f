"""Credentials: issued once, stored hashed, refused when revoked or expired."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.access.credentials import Access
from ledger.access.principals import (
    BOOTSTRAP_ADMIN,
    CredentialKind,
    Principal,
    Scope,
    secrets_match,
)
from ledger.books.service import Ledger
from ledger.kernel import errors
from ledger.kernel.model import Community
from ledger.store import SqlUnitOfWorkFactory
from ledger.store.tables import credentials


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access(engine: AsyncEngine, clock: Clock) -> Access:
    return Access(SqlUnitOfWorkFactory(engine), clock)


async def test_a_key_authenticates_with_its_scopes(
    access: Access, community: Community, engine: AsyncEngine
) -> None:
    credential, secret = await access.issue_api_key(community.id, "till", frozenset({Scope.WRITE}))
    principal = await access.authenticate(secret)
    assert principal == Principal.of(credential)
    assert principal.community_id == community.id and principal.kind is CredentialKind.API_KEY
    assert principal.allows(Scope.READ) and principal.allows(Scope.WRITE)
    assert not principal.allows(Scope.TREASURER)
    async with engine.connect() as connection:
        stored = (await connection.execute(sa.select(credentials))).all()
    assert all(secret not in repr(tuple(row)) for row in stored), "the secret was stored"
    assert await access.authenticate(secret + "x") is None
    assert await access.authenticate("not-a-token") is None


async def test_revoked_and_expired_credentials_authenticate_nobody(
    access: Access, community: Community, clock: Clock
) -> None:
    key, secret = await access.issue_api_key(community.id, "k", frozenset({Scope.READ}))
    revoked = await access.revoke(community.id, key.id)
    assert revoked.revoked_at is not None
    assert await access.authenticate(secret) is None
    _, expiring = await access.issue_api_key(
        community.id, "k", frozenset({Scope.READ}), expires_at=clock.now + timedelta(hours=1)
    )
    assert await access.authenticate(expiring) is not None
    clock.now += timedelta(hours=1)
    assert await access.authenticate(expiring) is None
    with pytest.raises(errors.InvalidInput):
        await access.issue_api_key(community.id, "k", frozenset({Scope.READ}), clock.now)
    with pytest.raises(errors.CredentialNotFound):
        await access.revoke(community.id, uuid.uuid4())


async def test_a_member_token_acts_as_its_member_only(
    access: Access, ledger: Ledger, community: Community
) -> None:
    member = await ledger.create_member(community.id, "Ann")
    _, secret = await access.issue_member_token(community.id, member.id, "phone")
    principal = await access.authenticate(secret)
    assert principal is not None
    assert (principal.is_member, principal.member_id) == (True, member.id)
    assert not principal.allows(Scope.TREASURER)
    assert principal.idempotency_scope != BOOTSTRAP_ADMIN.idempotency_scope
    with pytest.raises(errors.MemberNotFound):
        await access.issue_member_token(community.id, uuid.uuid4(), "phone")
    other = await ledger.create_community(f"o-{uuid.uuid4().hex[:8]}", "Other")
    assert principal.may_enter(community.id) and not principal.may_enter(other.id)
    assert BOOTSTRAP_ADMIN.may_enter(other.id)


async def test_a_web_session_ends_with_its_member_token(
    access: Access, ledger: Ledger, community: Community, clock: Clock
) -> None:
    """Issue 18, M2: a session authenticates only as a session, expires no later than the
    token it came from, and ends at once when that token is revoked here (cache or not)."""
    member = await ledger.create_member(community.id, "Ann")
    token, secret = await access.issue_member_token(
        community.id, member.id, "phone", expires_at=clock.now + timedelta(hours=1)
    )
    principal = await access.authenticate(secret)
    assert principal is not None
    session, cookie = await access.start_session(principal, timedelta(days=30))
    assert session.session_of == token.id and session.expires_at == token.expires_at
    assert await access.authenticate(cookie) is None, "a session is no bearer token"
    assert await access.authenticate(secret, session=True) is None, "a token is no session"
    assert await access.authenticate(cookie, session=True) is not None
    await access.revoke(community.id, token.id)
    assert await access.authenticate(cookie, session=True) is None
    with pytest.raises(errors.CredentialNotFound):
        await access.start_session(principal, timedelta(days=30))


async def test_last_use_is_recorded_coarsely(
    access: Access, community: Community, clock: Clock, engine: AsyncEngine
) -> None:
    key, secret = await access.issue_api_key(community.id, "k", frozenset({Scope.READ}))

    async def last_used() -> datetime | None:
        async with engine.connect() as connection:
            value: datetime | None = (
                await connection.execute(
                    sa.select(credentials.c.last_used_at).where(credentials.c.id == key.id)
                )
            ).scalar_one()
        return value

    await access.authenticate(secret)
    first = await last_used()
    assert first is not None
    clock.now += timedelta(seconds=10)
    await access.authenticate(secret)
    assert await last_used() == first
    clock.now += timedelta(minutes=2)
    await access.authenticate(secret)
    assert await last_used() == clock.now


def test_secrets_compare_in_constant_time() -> None:
    assert secrets_match("cl_abc", "cl_abc")
    assert not secrets_match("cl_abc", "cl_abd")
