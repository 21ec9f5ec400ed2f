"""Backups: ``export-archive`` then ``import-archive`` into an empty database gives the same
books — trial balance, every entry with its id, the audit chain, idempotency keys and
credentials — between any two engines; and a damaged archive restores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.access.credentials import Access
from ledger.access.principals import Scope
from ledger.audit.chain import Actor, AuditContext, acting
from ledger.audit.trail import AuditTrail
from ledger.books.service import Ledger, NewAccount
from ledger.kernel import errors
from ledger.kernel.model import AccountType, Community, IdempotencyKey, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWorkFactory, archive, create_engine
from ledger.store.migrate import head_revision, upgrade
from ledger.store.scoped import connection_of
from ledger.store.tables import metadata
from reports.period import Period
from reports.service import Reports
from tests.databases import postgres_database, sqlite_url

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
KEY = IdempotencyKey("api_key:archive", "dues-2026-11")


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database to restore into."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "restored.db")
        return
    with postgres_database("cl_restore") as url:
        yield url


@pytest.fixture
async def target(target_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(target_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def _pair(debit: object, credit: object, amount: int, **kwargs: object) -> NewEntry:
    return NewEntry((PostingSpec(debit, amount), PostingSpec(credit, -amount)), **kwargs)  # type: ignore[arg-type]


async def _books(ledger: Ledger, access: Access, community: Community) -> str:
    """A month of a small co-op's books; returns a member token."""
    actor = Actor("api_key", "k-archive", None, "treasurer")
    with acting(AuditContext(actor, "req-archive")):
        await ledger.add_commodity(community.id, "EUR", "Euro", 2)
        ann = await ledger.create_member(community.id, "Ann", hours_min=-600)
        bob = await ledger.create_member(community.id, "Bob", hours_max=600)
        cash, dues = [
            await ledger.open_account(community.id, NewAccount(code, code, kind, "EUR"))
            for code, kind in (
                ("Assets:Cash", AccountType.ASSET),
                ("Income:Dues", AccountType.INCOME),
            )
        ]
        hours = _pair(bob.hours_account_id, ann.hours_account_id, 90, description="Fence")
        posted = await ledger.post_entry(community.id, hours)
        await ledger.post_entry(
            community.id,
            _pair(
                cash.id,
                dues.id,
                2500,
                metadata={"month": "2026-11"},
                effective_date=date(2026, 11, 1),
            ),
            KEY,
        )
        pending = await ledger.post_entry(community.id, _pair(cash.id, dues.id, 700, pending=True))
        voided = await ledger.post_entry(community.id, _pair(cash.id, dues.id, 300, pending=True))
        await ledger.void_pending(community.id, voided.id)
        await ledger.reverse(community.id, posted.id, description="Entered twice")
        assert pending.status == "pending"
    await access.issue_api_key(community.id, "Treasurer", frozenset({Scope.TREASURER}))
    _, token = await access.issue_member_token(community.id, ann.id, "Ann's phone")
    return token


async def _export(engine: AsyncEngine, slug: str) -> list[bytes]:
    return [line async for line in archive.export_lines(engine, slug, head_revision(), NOW)]


async def test_an_archive_restores_the_same_books(
    engine: AsyncEngine, community: Community, target: AsyncEngine
) -> None:
    source = Ledger(SqlUnitOfWorkFactory(engine))
    token = await _books(source, Access(SqlUnitOfWorkFactory(engine)), community)
    reports = Reports(SqlUnitOfWorkFactory(engine), connection_of)
    snapshot = await reports.take_snapshot(community, Period.parse("2025"))
    lines = await _export(engine, community.slug)
    assert lines[0].startswith(b'{"community":') and b'"version":1' in lines[0]

    restored = await archive.import_lines(target, lines, head_revision())
    assert restored.community_id == community.id and restored.rows["entries"] == 5
    copy = Ledger(SqlUnitOfWorkFactory(target))
    assert await copy.trial_balance(community.id) == await source.trial_balance(community.id)
    assert await copy.list_entries(community.id) == await source.list_entries(community.id)
    trail, copied_trail = (
        AuditTrail(SqlUnitOfWorkFactory(engine)),
        AuditTrail(SqlUnitOfWorkFactory(target)),
    )
    assert await copied_trail.records(community.id, limit=100) == await trail.records(
        community.id, limit=100
    )
    assert (await copied_trail.verify(community.id)).broken is None
    copied_reports = Reports(SqlUnitOfWorkFactory(target), connection_of)
    assert await copied_reports.list_snapshots(community) == [snapshot]
    assert await copied_reports.snapshot(community, snapshot.id) == await reports.snapshot(
        community, snapshot.id
    )
    # Exported again, the copy is the same archive byte for byte.
    assert await _export(target, community.slug) == lines
    # Its idempotency keys and credentials work there as they did here.
    accounts = {a.code: a for a in await copy.list_accounts(community.id)}
    replay = _pair(
        accounts["Assets:Cash"].id,
        accounts["Income:Dues"].id,
        2500,
        metadata={"month": "2026-11"},
        effective_date=date(2026, 11, 1),
    )
    assert (await copy.post_entry(community.id, replay, KEY)).metadata == {"month": "2026-11"}
    assert len(await copy.list_entries(community.id)) == 5
    principal = await Access(SqlUnitOfWorkFactory(target)).authenticate(token)
    assert principal is not None and principal.community_id == community.id


async def test_a_damaged_archive_restores_nothing(
    engine: AsyncEngine, community: Community, target: AsyncEngine
) -> None:
    ledger = Ledger(SqlUnitOfWorkFactory(engine))
    await _books(ledger, Access(SqlUnitOfWorkFactory(engine)), community)
    lines = await _export(engine, community.slug)
    forged = [line.replace(b'"amount":2500', b'"amount":2600') for line in lines]
    assert forged != lines
    cases = {
        "checksum": forged,
        "footer": lines[:-1],
        "schema": [lines[0].replace(head_revision().encode(), b"0000"), *lines[1:]],
    }
    for reason, damaged in cases.items():
        with pytest.raises(archive.ArchiveError, match=reason):
            await archive.import_lines(target, damaged, head_revision())
        copy = Ledger(SqlUnitOfWorkFactory(target))
        with pytest.raises(errors.CommunityNotFound):
            await copy.get_community_by_slug(community.slug)
    await archive.import_lines(target, lines, head_revision())
    with pytest.raises(archive.ArchiveError, match="already exists"):
        await archive.import_lines(target, lines, head_revision())


def test_the_archive_holds_every_table_of_the_schema() -> None:
    """A table added to the schema must be added to the archive too, or a restore loses it."""
    tables = [*archive.TABLES, *archive.NODE_TABLES]
    assert {table.name for table in tables} == set(metadata.tables)
