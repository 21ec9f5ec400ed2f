"""Balances as of a date and a report's movements are read from whichever end of the history is
nearer: summed from the first posting, or the maintained counters less the postings after the
date. Both ways must give the same figures for any date, on books with pending, voided and
reversed entries in three commodities (``generated.py``)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.books.service import Ledger
from ledger.kernel.model import Counters
from ledger.store import SqlUnitOfWorkFactory
from reports.queries.movements import Window, movements
from tests.conftest import unique_slug
from tests.reports.generated import DAYS, FIRST_DAY, GeneratedLedger, generate

ENTRIES = 300
SEED = 7
# From before the first entry to after the last, in steps that land on every part of the span:
# dates in its first half are summed forwards, those in its second half from the counters.
DATES = [FIRST_DAY + timedelta(days=d) for d in range(-3, DAYS + 4, 11)]

_generated: dict[str, GeneratedLedger] = {}


@pytest.fixture
async def books(database_url: str, ledger: Ledger) -> GeneratedLedger:
    """One generated ledger per database, shared by this module's tests."""
    if database_url not in _generated:
        community = await ledger.create_community(unique_slug("h"), "History ends")
        _generated[database_url] = await generate(ledger, community, ENTRIES, SEED)
    return _generated[database_url]


def _without_zeros(found: dict[uuid.UUID, Counters]) -> dict[uuid.UUID, Counters]:
    """An account with nothing as of a date may be absent or all zeros: the same balance."""
    return {account: counters for account, counters in found.items() if counters != Counters()}


async def test_counters_as_of_any_date_equal_the_postings_summed(
    engine: AsyncEngine, books: GeneratedLedger
) -> None:
    cid = books.community.id
    assert books.pending and books.voided and books.reversed, "the books lack an edge case"
    accounts = books.hours[:2] + books.eur[:2] + books.eggs[:1]
    async with SqlUnitOfWorkFactory(engine)(write=False) as uow:
        repo = uow.repo
        for as_of in DATES:
            summed = await repo.summed_from_postings(cid, as_of)
            chosen = await repo.counters_by_account_as_of(cid, as_of)
            assert _without_zeros(dict(chosen)) == _without_zeros(summed), as_of
            for account_id in accounts:
                one = await repo.counters_as_of(cid, account_id, as_of)
                assert one == summed.get(account_id, Counters()), (as_of, account_id)
        assert _without_zeros(summed), "the last date summed nothing"


def _windows(day: date) -> dict[str, Window]:
    """Windows like a report's: open ones ending on and before ``day``, bounded ones around
    it, and pending ones of both kinds."""
    month = timedelta(days=30)
    return {
        "to_date": Window(None, day),
        "before": Window(None, day - month),
        "current": Window(day - month, day),
        "previous": Window(day - 2 * month, day - month - timedelta(days=1)),
        "pending": Window(day - month, day, status="pending"),
        "pending_to_date": Window(None, day, status="pending"),
        "later": Window(day + timedelta(days=1), day + month),
    }


async def test_movements_from_either_end_agree(engine: AsyncEngine, books: GeneratedLedger) -> None:
    cid = books.community.id
    async with SqlUnitOfWorkFactory(engine)(write=False) as uow:
        for day in DATES:
            windows = _windows(day)
            forwards = await movements(uow.connection, cid, windows, from_counters=False)
            backwards = await movements(uow.connection, cid, windows, from_counters=True)
            chosen = await movements(uow.connection, cid, windows)
            assert backwards == forwards, day
            assert chosen == forwards, day
        assert any(forwards.values()), "the windows moved nothing"
