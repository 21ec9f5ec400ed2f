"""An import-journal while other writers post on the same accounts (PostgreSQL): the import
locks its accounts in id order and writes net counters on the locked rows, so no update is lost
and every balance equals the sum of its postings."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date

import pytest

from ledger.journal_format import parse
from ledger.journal_import import JournalImport, file_digest
from ledger.model import AccountType, NewEntry, PostingSpec
from ledger.service import Ledger, NewAccount, utc_now
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.journal_import import SqlJournalWriter
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
