"""An import-journal on PostgreSQL: while other writers post on the same accounts (the import
locks its accounts in id order and writes net counters on the locked rows, so no update is lost
and every balance equals the sum of its postings), and on its bulk path (COPY with the per-row
triggers off for its own statements, then one set-based check): a row breaking any guard rolls
everything back, the guards are on for every write after, and it falls back to the per-row
triggers when it may not switch them off or meets a guard it does not know."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.ports import UnitOfWork
from ledger.books.service import Ledger, NewAccount
from ledger.imports.journal_format import parse
from ledger.imports.journal_import import JournalImport, JournalRefused, file_digest
from ledger.kernel.clock import utc_now
from ledger.kernel.model import AccountType, Entry, NewEntry, PostingSpec
from ledger.store import SqlUnitOfWork, SqlUnitOfWorkFactory, create_engine
from ledger.store import journal_import as journal_store
from ledger.store.journal_import import GuardBreached, SqlJournalWriter
from tests.conftest import unique_slug

pytestmark = pytest.mark.postgres_only

CODES = ("a0", "a1", "a2", "a3")


async def test_concurrent_writes_during_an_import_keep_balances_exact(
    postgresql_database_url: str,
) -> None:
    engine = create_engine(postgresql_database_url)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        ledger = Ledger(uow)
        community = await ledger.create_community(unique_slug(), "Busy")
        ids = {}
        for code in CODES:
            opened = await ledger.open_account(
                community.id, NewAccount(code, code, AccountType.LIABILITY, "HOURS")
            )
            ids[code] = opened.id
        rows = ["entry_id,date,description,account_code,amount"]
        expected: dict[str, int] = defaultdict(int)
        for n in range(3000):
            debit, credit = CODES[n % 4], CODES[(n + 1) % 4]
            rows += [f"{n},2024-01-01,Old,{debit},{n % 7 + 1}", f"{n},,,{credit},-{n % 7 + 1}"]
            expected[debit] += n % 7 + 1
            expected[credit] -= n % 7 + 1
        data = ("\n".join(rows) + "\n").encode()
        importer = JournalImport(uow, SqlJournalWriter.of, utc_now)
        importing = asyncio.create_task(
            importer.run(community.id, parse("old.csv", data), file_digest(data))
        )

        async def writer(worker: int) -> list[tuple[str, str]]:
            done = []
            for n in range(60):
                debit, credit = CODES[(worker + n) % 4], CODES[(worker + n + 2) % 4]
                spec = NewEntry(
                    postings=(PostingSpec(ids[debit], 1), PostingSpec(ids[credit], -1)),
                    description="now",
                )
                await ledger.post_entry(community.id, spec)
                done.append((debit, credit))
                if n == 30:
                    await importing  # half the writes during the import, half after
            return done

        writes = await asyncio.gather(*(writer(w) for w in range(6)))
        assert (await importing).entries == 3000
        for done in writes:
            for debit, credit in done:
                expected[debit] += 1
                expected[credit] -= 1
        accounts = {a.code: a for a in await ledger.list_accounts(community.id)}
        for code in CODES:
            counters = accounts[code].counters
            assert counters.debits_posted - counters.credits_posted == expected[code], code
        now = await ledger.trial_balance(community.id)
        summed = await ledger.trial_balance(community.id, date(2100, 1, 1))
        assert now.commodities == summed.commodities
    finally:
        await engine.dispose()


# The bulk path: COPY with the per-row triggers off for its own statements, one set-based check
# after (ledger.store.journal_import). What it must keep: every guard, on every later write.

HEADER = "entry_id,date,description,account_code,amount\n"


def _file(entries: int, codes: tuple[str, str] = ("a0", "a1")) -> bytes:
    rows = [HEADER.strip()]
    for n in range(entries):
        rows += [f"{n},2024-01-0{n % 9 + 1},Old,{codes[0]},{n % 5 + 1}"]
        rows += [f"{n},,,{codes[1]},-{n % 5 + 1}"]
    return ("\n".join(rows) + "\n").encode()


class _World:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.uow = SqlUnitOfWorkFactory(engine)
        self.ledger = Ledger(self.uow)
        self.writers: list[SqlJournalWriter] = []

    async def open(self) -> None:
        self.community = await self.ledger.create_community(unique_slug(), "Bulk")
        self.ids = {}
        for code in (*CODES, "z0", "z1"):
            opened = await self.ledger.open_account(
                self.community.id,
                NewAccount(code, code, AccountType.LIABILITY, "HOURS", balance_min=-(10**6)),
            )
            self.ids[code] = opened.id

    def writer(self, uow: UnitOfWork) -> SqlJournalWriter:
        made = SqlJournalWriter.of(uow)
        self.writers.append(made)
        return made

    async def run(self, data: bytes, writer: Any = None) -> Any:
        importer = JournalImport(self.uow, writer or self.writer, utc_now)
        return await importer.run(self.community.id, parse("old.csv", data), file_digest(data))

    async def state(self) -> tuple[object, ...]:
        entries = await self.ledger.list_entries(self.community.id, limit=1000)
        accounts = await self.ledger.list_accounts(self.community.id)
        return len(entries), tuple(a.counters for a in accounts)

    async def transfer(self, debit: str, credit: str, minutes: int = 1) -> Entry:
        spec = NewEntry(
            postings=(
                PostingSpec(self.ids[debit], minutes),
                PostingSpec(self.ids[credit], -minutes),
            ),
            description="now",
        )
        return await self.ledger.post_entry(self.community.id, spec)


@pytest.fixture
async def world(postgresql_database_url: str) -> AsyncIterator[_World]:
    # One connection: whatever the import set on it, the next writes meet the same session.
    engine = create_engine(postgresql_database_url, pool_size=1, max_overflow=0)
    made = _World(engine)
    await made.open()
    yield made
    await engine.dispose()


async def _guards_hold(world: _World) -> None:
    """Every guard the bulk path switched off refuses a raw write on the same connection."""
    async with world.engine.connect() as connection:
        role = await connection.scalar(sa.text("SHOW session_replication_role"))
    assert role == "origin"
    entry = uuid.uuid4()
    params = {"c": world.community.id, "e": entry, "a": world.ids["a0"]}
    insert_entry = (
        "INSERT INTO entries (community_id, id, status, effective_date, description, kind,"
        " metadata, created_at, completed_at) VALUES (:c, :e, 'posted', '2024-01-01', 'forged',"
        " 'entry', '{}', now(), now())"
    )
    posting = (
        "INSERT INTO postings (community_id, entry_id, line, account_id, commodity, amount,"
        " effective_date) VALUES (:c, :e, {line}, {account}, 'HOURS', {amount}, '2024-01-01')"
    )
    cases = {
        "is unbalanced": [posting.format(line=0, account=":a", amount=5),
                          posting.format(line=1, account=":a", amount=-4)],
        "fewer than 2 postings": [],
        "foreign key": [posting.format(line=0, account=":x", amount=5),
                        posting.format(line=1, account=":a", amount=-5)],
    }  # fmt: skip

    async def write(postings: list[str]) -> None:
        async with world.engine.connect() as connection, connection.begin():
            await connection.execute(sa.text(insert_entry), params)
            for statement in postings:
                await connection.execute(sa.text(statement), {**params, "x": uuid.uuid4()})

    for message, postings in cases.items():
        with pytest.raises(DBAPIError, match=message):
            await write(postings)


async def test_the_bulk_path_imports_exactly_and_leaves_every_guard_on(world: _World) -> None:
    summary = await world.run(_file(25_000))  # three COPY chunks
    assert [w.bulk for w in world.writers] == [True]
    assert (summary.entries, summary.postings) == (25_000, 50_000)
    accounts = {a.code: a for a in await world.ledger.list_accounts(world.community.id)}
    moved = sum(n % 5 + 1 for n in range(25_000))
    assert accounts["a0"].counters.debits_posted == moved
    assert accounts["a1"].counters.credits_posted == moved
    now = await world.ledger.trial_balance(world.community.id)
    summed = await world.ledger.trial_balance(world.community.id, date(2100, 1, 1))
    assert now.commodities == summed.commodities
    await _guards_hold(world)


def _tamper(rows: list[tuple[Any, ...]], how: str, world: _World, old: Entry) -> None:
    # Posting rows: (community_id, entry_id, line, account_id, commodity, amount, date).
    first = list(rows[0])
    if how == "unbalanced":
        first[5] += 1
    elif how == "misdated":
        first[6] = date(2023, 12, 31)
    elif how == "one posting":
        del rows[1]
    elif how == "another entry":  # the posting joins an old, balanced entry
        first[1], first[2] = old.id, 7
    elif how == "no such entry":
        first[1] = uuid.uuid4()
    elif how == "an account not locked":  # exists, holds HOURS, but the import never locked it
        first[3] = world.ids["z0"]
        rows[1] = (*rows[1][:3], world.ids["z1"], *rows[1][4:])
    elif how == "no such account":
        first[3] = uuid.uuid4()
    rows[0] = tuple(first)


@pytest.mark.parametrize(
    "how",
    [
        "unbalanced",
        "misdated",
        "one posting",
        "another entry",
        "no such entry",
        "an account not locked",
        "no such account",
    ],
)
async def test_a_row_breaking_a_guard_on_the_bulk_path_writes_nothing(
    world: _World, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in building the COPY rows (the plan checked the file, so only a bug gets here) is
    caught by the set-based check, the transaction rolls back, and the guards are on after."""
    old = await world.transfer("a2", "a3")
    before = await world.state()
    build = journal_store._posting_records

    def tampered(written: Any) -> list[tuple[Any, ...]]:
        rows = build(written)
        _tamper(rows, how, world, old)
        return rows

    monkeypatch.setattr(journal_store, "_posting_records", tampered)
    with pytest.raises(GuardBreached):
        await world.run(_file(50))
    assert [w.bulk for w in world.writers] == [True]
    monkeypatch.undo()
    assert await world.state() == before
    await _guards_hold(world)
    assert (await world.run(_file(50))).entries == 50  # the file itself was good


async def test_a_refused_file_leaves_the_guards_on(world: _World) -> None:
    before = await world.state()
    unbalanced = _file(10) + b"x,2024-01-01,Lopsided,a0,5\nx,,,a1,-4\n"
    with pytest.raises(JournalRefused):
        await world.run(unbalanced)
    assert await world.state() == before
    await _guards_hold(world)


async def test_an_unknown_guard_keeps_every_trigger_on(
    world: _World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check stands in only for the guards it knows: one it does not (simulated by
    forgetting a known one) makes the writer COPY with every per-row trigger running."""
    known = set(journal_store.KNOWN_GUARDS)
    known.discard(("postings", "trigger", "postings_balanced"))
    monkeypatch.setattr(journal_store, "KNOWN_GUARDS", frozenset(known))
    assert (await world.run(_file(100))).entries == 100
    assert [w.bulk for w in world.writers] == [False]


async def test_a_role_that_may_not_switch_triggers_off_imports_with_them_on(
    postgresql_database_url: str,
) -> None:
    """Without the right to set session_replication_role the writer logs why and falls back to
    COPY with every trigger running: same result, same refusals."""
    role = f"importer_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgresql_database_url)
    try:
        async with admin.begin() as connection:
            await connection.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
            for grant in ("SELECT, INSERT, UPDATE ON ALL TABLES", "USAGE ON ALL SEQUENCES"):
                await connection.execute(sa.text(f"GRANT {grant} IN SCHEMA public TO {role}"))
        url = make_url(postgresql_database_url).set(username=role)
        engine = create_engine(url.render_as_string(hide_password=False))
        try:
            world = _World(engine)
            await world.open()
            with pytest.raises(JournalRefused):
                await world.run(_file(10) + b"x,2024-01-01,Lopsided,a0,5\nx,,,a1,-4\n")
            assert (await world.run(_file(100))).entries == 100
            assert [w.bulk for w in world.writers] == [False]  # a refused file writes none
            await _guards_hold(world)
        finally:
            await engine.dispose()
    finally:
        async with admin.begin() as connection:
            await connection.execute(sa.text(f"DROP OWNED BY {role}"))
            await connection.execute(sa.text(f"DROP ROLE {role}"))
        await admin.dispose()


async def test_a_transfer_on_an_imported_account_waits_for_the_import_and_succeeds(
    postgresql_database_url: str,
) -> None:
    """The import holds its accounts' rows (FOR UPDATE) and no table lock: a transfer on one of
    its accounts waits until it commits, then succeeds on the new balance; a transfer on other
    accounts of the same tables goes through meanwhile."""
    engine = create_engine(postgresql_database_url)
    world = _World(engine)
    try:
        await world.open()
        writing, release = asyncio.Event(), asyncio.Event()

        class Paused(SqlJournalWriter):
            async def insert(self, written: Any) -> None:
                await super().insert(written)
                writing.set()
                await release.wait()

        def paused(uow: UnitOfWork) -> SqlJournalWriter:
            made = Paused(cast(SqlUnitOfWork, uow).connection)
            world.writers.append(made)
            return made

        importing = asyncio.create_task(world.run(_file(200), paused))
        await writing.wait()
        waiting = asyncio.create_task(world.transfer("a1", "a0", 7))
        elsewhere = await asyncio.wait_for(world.transfer("z0", "z1", 3), timeout=30)
        await asyncio.sleep(0.5)
        assert not waiting.done(), "a transfer on a locked account went through the import"
        release.set()
        summary = await importing
        transfer = await asyncio.wait_for(waiting, timeout=30)
        assert [w.bulk for w in world.writers] == [True]
        assert summary.entries == 200 and transfer.status.value == "posted"
        assert elsewhere.status.value == "posted"
        moved = sum(n % 5 + 1 for n in range(200))
        a0 = await world.ledger.balance(world.community.id, world.ids["a0"])
        assert a0.posted == -(moved - 7)  # a liability: debits lower it
    finally:
        await engine.dispose()
