"""The ledger's use cases and rules, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from ledger.books.service import AccountChange, Ledger, NewAccount
from ledger.kernel import errors
from ledger.kernel.model import (
    HOURS,
    Account,
    AccountType,
    Community,
    EntryStatus,
    IdempotencyKey,
    Member,
    NewEntry,
    PostingSpec,
)
from tests.conftest import unique_slug


def transfer(debit: uuid.UUID, credit: uuid.UUID, amount: int, **kwargs: object) -> NewEntry:
    return NewEntry((PostingSpec(debit, amount), PostingSpec(credit, -amount)), **kwargs)  # type: ignore[arg-type]


async def members(ledger: Ledger, community: Community, *limits: int | None) -> list[Member]:
    return [
        await ledger.create_member(community.id, f"Member {i}", hours_min=limit)
        for i, limit in enumerate(limits)
    ]


async def open_account(
    ledger: Ledger,
    community: Community,
    code: str,
    type_: AccountType = AccountType.ASSET,
    commodity: str = HOURS,
    **limits: int | None,
) -> Account:
    return await ledger.open_account(
        community.id,
        NewAccount(code, code.title(), type_, commodity, **limits),  # type: ignore[arg-type]
    )


async def snapshot(ledger: Ledger, community: Community) -> object:
    """Everything a rejected write must leave unchanged."""
    accounts = await ledger.list_accounts(community.id)
    return (accounts, await ledger.list_entries(community.id, limit=500))


# Communities, commodities, members -------------------------------------------------------------


async def test_a_new_community_has_hours(ledger: Ledger, community: Community) -> None:
    commodities = await ledger.list_commodities(community.id)
    assert [c.code for c in commodities] == [HOURS]
    assert await ledger.get_community_by_slug(community.slug) == community


async def test_slugs_are_unique_and_well_formed(ledger: Ledger, community: Community) -> None:
    with pytest.raises(errors.CommunityExists):
        await ledger.create_community(community.slug, "Again")
    with pytest.raises(errors.InvalidInput):
        await ledger.create_community("Not A Slug", "Bad")
    with pytest.raises(errors.CommunityNotFound):
        await ledger.get_community_by_slug(unique_slug("missing"))


async def test_commodities_are_added_once(ledger: Ledger, community: Community) -> None:
    eur = await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    assert eur.scale == 2
    with pytest.raises(errors.CommodityExists):
        await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    with pytest.raises(errors.InvalidInput):
        await ledger.add_commodity(community.id, "eur", "Euro", 2)
    with pytest.raises(errors.InvalidInput):
        await ledger.add_commodity(community.id, "EGGS", "Eggs", 12)


async def test_a_member_gets_a_credit_normal_hours_account(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    account = await ledger.get_account(community.id, ann.hours_account_id)
    assert (account.commodity, account.type, account.member_id) == (
        HOURS,
        AccountType.LIABILITY,
        ann.id,
    )
    # 90 minutes of help given by Ann to Bob: debit Bob, credit Ann.
    await ledger.post_entry(community.id, transfer(bob.hours_account_id, ann.hours_account_id, 90))
    assert (await ledger.balance(community.id, ann.hours_account_id)).posted == 90
    assert (await ledger.balance(community.id, bob.hours_account_id)).posted == -90


# Accounts ----------------------------------------------------------------------------------------


async def test_open_account_checks_its_references(ledger: Ledger, community: Community) -> None:
    with pytest.raises(errors.CommodityNotFound):
        await open_account(ledger, community, "cash", commodity="EUR")
    with pytest.raises(errors.MemberNotFound):
        await ledger.open_account(
            community.id, NewAccount("x", "X", AccountType.ASSET, HOURS, member_id=uuid.uuid4())
        )
    await open_account(ledger, community, "cash")
    with pytest.raises(errors.AccountCodeExists):
        await open_account(ledger, community, "cash")


async def test_limits_must_admit_the_balance(ledger: Ledger, community: Community) -> None:
    with pytest.raises(errors.InvalidInput):
        await open_account(ledger, community, "a", balance_min=10, balance_max=5)
    with pytest.raises(errors.LimitsViolatedByBalance):
        await open_account(ledger, community, "b", balance_min=10)
    ann, bob = await members(ledger, community, None, None)
    await ledger.post_entry(community.id, transfer(bob.hours_account_id, ann.hours_account_id, 90))
    with pytest.raises(errors.LimitsViolatedByBalance):
        await ledger.update_account(
            community.id, bob.hours_account_id, AccountChange(balance_min=-60)
        )
    updated = await ledger.update_account(
        community.id, bob.hours_account_id, AccountChange(balance_min=-90, name="Bob's hours")
    )
    assert (updated.balance_min, updated.name) == (-90, "Bob's hours")


async def test_closed_accounts_refuse_entries_and_reopen(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, None)
    pending = await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 30, pending=True)
    )
    with pytest.raises(errors.AccountHasPending):
        await ledger.update_account(community.id, ann.hours_account_id, AccountChange(closed=True))
    await ledger.void_pending(community.id, pending.id)
    await ledger.update_account(community.id, ann.hours_account_id, AccountChange(closed=True))
    with pytest.raises(errors.AccountClosed):
        await ledger.post_entry(
            community.id, transfer(bob.hours_account_id, ann.hours_account_id, 30)
        )
    await ledger.update_account(community.id, ann.hours_account_id, AccountChange(closed=False))
    await ledger.post_entry(community.id, transfer(bob.hours_account_id, ann.hours_account_id, 30))


# Entry rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amounts", "code"),
    [
        ((60,), "too_few_postings"),
        ((60, 0, -60), "invalid_amount"),
        ((60, -59), "unbalanced"),
        ((2**53, -(2**53)), "invalid_amount"),
    ],
)
async def test_malformed_entries_are_rejected_whole(
    ledger: Ledger, community: Community, amounts: tuple[int, ...], code: str
) -> None:
    accounts = [await open_account(ledger, community, f"a{i}") for i in range(len(amounts))]
    before = await snapshot(ledger, community)
    entry = NewEntry(tuple(PostingSpec(a.id, n) for a, n in zip(accounts, amounts, strict=True)))
    with pytest.raises(errors.LedgerError) as caught:
        await ledger.post_entry(community.id, entry)
    assert caught.value.code == code
    assert await snapshot(ledger, community) == before


async def test_fractional_amounts_are_rejected(ledger: Ledger, community: Community) -> None:
    a, b = await open_account(ledger, community, "a"), await open_account(ledger, community, "b")
    entry = NewEntry((PostingSpec(a.id, 1.5), PostingSpec(b.id, -1.5)))  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidAmount):
        await ledger.post_entry(community.id, entry)


async def test_accounts_of_another_community_do_not_exist_here(
    ledger: Ledger, community: Community
) -> None:
    other = await ledger.create_community(unique_slug("other"), "Other")
    mine = await open_account(ledger, community, "mine")
    theirs = await open_account(ledger, other, "theirs")
    with pytest.raises(errors.AccountNotFound):
        await ledger.post_entry(community.id, transfer(mine.id, theirs.id, 10))
    with pytest.raises(errors.AccountNotFound):
        await ledger.balance(community.id, theirs.id)


async def test_each_commodity_balances_on_its_own(ledger: Ledger, community: Community) -> None:
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    hours_a, hours_b = await members(ledger, community, None, None)
    cash = await open_account(ledger, community, "cash", commodity="EUR")
    income = await open_account(ledger, community, "fees", AccountType.INCOME, commodity="EUR")
    # 60 minutes and 60 cents cancel in a single sum, never per commodity.
    crossed = NewEntry((PostingSpec(hours_a.hours_account_id, 60), PostingSpec(income.id, -60)))
    with pytest.raises(errors.Unbalanced):
        await ledger.post_entry(community.id, crossed)
    both = NewEntry(
        (
            PostingSpec(hours_a.hours_account_id, 60),
            PostingSpec(hours_b.hours_account_id, -60),
            PostingSpec(cash.id, 500),
            PostingSpec(income.id, -500),
        )
    )
    entry = await ledger.post_entry(community.id, both)
    assert [p.commodity for p in entry.postings] == [HOURS, HOURS, "EUR", "EUR"]
    assert (await ledger.balance(community.id, income.id)).posted == 500


async def test_limits_count_pending_reservations(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, -120)
    await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 100, pending=True)
    )
    balance = await ledger.balance(community.id, bob.hours_account_id)
    assert (balance.posted, balance.pending, balance.available) == (0, -100, -100)
    with pytest.raises(errors.LimitExceeded):
        await ledger.post_entry(
            community.id, transfer(bob.hours_account_id, ann.hours_account_id, 30)
        )
    await ledger.post_entry(community.id, transfer(bob.hours_account_id, ann.hours_account_id, 20))


async def test_maximum_balance_is_a_ceiling(ledger: Ledger, community: Community) -> None:
    pot = await open_account(ledger, community, "pot", balance_max=100)
    source = await open_account(ledger, community, "source", AccountType.EQUITY)
    await ledger.post_entry(community.id, transfer(pot.id, source.id, 100))
    with pytest.raises(errors.LimitExceeded) as caught:
        await ledger.post_entry(community.id, transfer(pot.id, source.id, 1, pending=True))
    assert caught.value.context["limit"] == "max"


# Two-phase entries and reversals ----------------------------------------------------------------


async def test_pending_entry_posts_exactly_once(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, None)
    pending = await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 45, pending=True)
    )
    assert pending.status is EntryStatus.PENDING and pending.completed_at is None
    assert (await ledger.balance(community.id, ann.hours_account_id)).posted == 0
    posted = await ledger.post_pending(community.id, pending.id)
    assert posted.status is EntryStatus.POSTED and posted.completed_at is not None
    balance = await ledger.balance(community.id, ann.hours_account_id)
    assert (balance.posted, balance.pending) == (45, 0)
    with pytest.raises(errors.EntryNotPending):
        await ledger.post_pending(community.id, pending.id)
    with pytest.raises(errors.EntryNotPending):
        await ledger.void_pending(community.id, pending.id)
    assert (await ledger.get_entry(community.id, pending.id)).status is EntryStatus.POSTED


async def test_voiding_releases_the_reservation(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, -60)
    pending = await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 60, pending=True)
    )
    voided = await ledger.void_pending(community.id, pending.id)
    assert voided.status is EntryStatus.VOIDED
    balance = await ledger.balance(community.id, bob.hours_account_id)
    assert (balance.posted, balance.pending, balance.available) == (0, 0, 0)
    with pytest.raises(errors.EntryNotPending):
        await ledger.post_pending(community.id, pending.id)
    with pytest.raises(errors.EntryNotFound):
        await ledger.void_pending(community.id, uuid.uuid4())


async def test_an_entry_is_reversed_at_most_once(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, None)
    entry = await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 30, description="x")
    )
    reversal = await ledger.reverse(community.id, entry.id)
    assert reversal.reverses == entry.id and reversal.kind == "reversal"
    assert [p.amount for p in reversal.postings] == [-30, 30]
    assert (await ledger.balance(community.id, ann.hours_account_id)).posted == 0
    with pytest.raises(errors.EntryAlreadyReversed):
        await ledger.reverse(community.id, entry.id)
    pending = await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 5, pending=True)
    )
    with pytest.raises(errors.EntryNotPosted):
        await ledger.reverse(community.id, pending.id)
    # The original stays as it was: corrections are new entries.
    assert await ledger.get_entry(community.id, entry.id) == entry


async def test_long_texts_stay_within_their_columns(ledger: Ledger, community: Community) -> None:
    # SQLite ignores VARCHAR lengths; PostgreSQL would fail the write if these overflowed.
    ann = await ledger.create_member(community.id, "A" * 200)
    assert len((await ledger.get_account(community.id, ann.hours_account_id)).name) == 200
    bob = await ledger.create_member(community.id, "Bob")
    entry = await ledger.post_entry(
        community.id,
        transfer(bob.hours_account_id, ann.hours_account_id, 5, description="d" * 1000),
    )
    reversal = await ledger.reverse(community.id, entry.id)
    assert len(reversal.description) == 1000
    with pytest.raises(errors.InvalidInput):
        await ledger.reverse(community.id, entry.id, description="x" * 1001)
    with pytest.raises(errors.InvalidInput):
        await ledger.statement(community.id, ann.hours_account_id, limit=0)
    with pytest.raises(errors.InvalidInput):
        await ledger.list_entries(community.id, limit=1001)


async def test_a_reversal_meets_the_limits_too(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, -30, None)
    entry = await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 50)
    )
    await ledger.post_entry(community.id, transfer(ann.hours_account_id, bob.hours_account_id, 70))
    # Ann is at -20; undoing the 50 she earned would take her to -70, below -30.
    with pytest.raises(errors.LimitExceeded):
        await ledger.reverse(community.id, entry.id)


# Balances, statements, trial balance ------------------------------------------------------------


async def test_balance_as_of_an_effective_date(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, None)
    today = date.today()
    last_week = today - timedelta(days=7)
    await ledger.post_entry(
        community.id,
        transfer(bob.hours_account_id, ann.hours_account_id, 60, effective_date=last_week),
    )
    await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 15, effective_date=today)
    )
    await ledger.post_entry(
        community.id,
        transfer(bob.hours_account_id, ann.hours_account_id, 5, pending=True, effective_date=today),
    )
    before = await ledger.balance(
        community.id, ann.hours_account_id, as_of=last_week - timedelta(1)
    )
    then = await ledger.balance(community.id, ann.hours_account_id, as_of=last_week)
    now = await ledger.balance(community.id, ann.hours_account_id, as_of=today)
    assert (before.posted, then.posted, now.posted, now.pending) == (0, 60, 75, 5)
    assert now.as_of == today
    current = await ledger.balance(community.id, ann.hours_account_id)
    assert (current.posted, current.pending) == (now.posted, now.pending)


async def test_statement_runs_a_balance_across_pages(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, None)
    start = date.today() - timedelta(days=10)
    for day, minutes in enumerate([10, 20, 30, 40, 50]):
        await ledger.post_entry(
            community.id,
            transfer(
                bob.hours_account_id,
                ann.hours_account_id,
                minutes,
                effective_date=start + timedelta(days=4 - day),
                description=f"day {day}",
            ),
        )
    voided = await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 99, pending=True)
    )
    await ledger.void_pending(community.id, voided.id)
    first = await ledger.statement(community.id, ann.hours_account_id, limit=2)
    assert [line.amount for line in first.lines] == [50, 40]
    assert [line.running_balance for line in first.lines] == [50, 90]
    assert first.next_cursor is not None
    rest = await ledger.statement(
        community.id, ann.hours_account_id, after=first.next_cursor, limit=10
    )
    assert [line.running_balance for line in rest.lines] == [120, 140, 150]
    assert rest.next_cursor is None
    bob_lines = await ledger.statement(community.id, bob.hours_account_id)
    assert bob_lines.lines[-1].running_balance == -150


async def test_trial_balance_debits_equal_credits(ledger: Ledger, community: Community) -> None:
    await ledger.add_commodity(community.id, "EUR", "Euro", 2)
    ann, bob = await members(ledger, community, None, None)
    cash = await open_account(ledger, community, "cash", commodity="EUR")
    dues = await open_account(ledger, community, "dues", AccountType.INCOME, commodity="EUR")
    await ledger.post_entry(community.id, transfer(bob.hours_account_id, ann.hours_account_id, 90))
    await ledger.post_entry(
        community.id,
        transfer(cash.id, dues.id, 2500, effective_date=date.today() - timedelta(days=3)),
    )
    trial = await ledger.trial_balance(community.id)
    totals = {c.commodity: (c.total_debit, c.total_credit) for c in trial.commodities}
    assert totals == {"EUR": (2500, 2500), HOURS: (90, 90)}
    earlier = await ledger.trial_balance(community.id, as_of=date.today() - timedelta(days=1))
    totals = {c.commodity: (c.total_debit, c.total_credit) for c in earlier.commodities}
    assert totals == {"EUR": (2500, 2500), HOURS: (0, 0)}


async def test_entries_list_in_recorded_order(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, None)
    written = [
        await ledger.post_entry(
            community.id, transfer(bob.hours_account_id, ann.hours_account_id, n)
        )
        for n in (1, 2, 3)
    ]
    page = await ledger.list_entries(community.id, limit=2)
    assert [e.id for e in page] == [e.id for e in written[:2]]
    rest = await ledger.list_entries(community.id, after=page[-1].id, limit=2)
    assert rest == written[2:]


# Idempotency -------------------------------------------------------------------------------------


async def test_a_retry_returns_the_first_result(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, None)
    key = IdempotencyKey("api-key:1", "dues-2026-11")
    request = transfer(bob.hours_account_id, ann.hours_account_id, 30, metadata={"b": 1, "a": 2})
    first = await ledger.post_entry(community.id, request, key)
    again = await ledger.post_entry(
        community.id,
        transfer(bob.hours_account_id, ann.hours_account_id, 30, metadata={"a": 2, "b": 1}),
        key,
    )
    assert again == first
    assert len(await ledger.list_entries(community.id)) == 1
    with pytest.raises(errors.IdempotencyConflict):
        await ledger.post_entry(
            community.id, transfer(bob.hours_account_id, ann.hours_account_id, 31), key
        )
    # Keys belong to their caller: another scope may use the same key.
    other = await ledger.post_entry(community.id, request, IdempotencyKey("api-key:2", key.key))
    assert other.id != first.id


async def test_a_retried_rejection_meets_the_same_error(
    ledger: Ledger, community: Community
) -> None:
    ann, bob = await members(ledger, community, None, -10)
    key = IdempotencyKey("member:bob", "k")
    request = transfer(bob.hours_account_id, ann.hours_account_id, 30)
    with pytest.raises(errors.LimitExceeded):
        await ledger.post_entry(community.id, request, key)
    await ledger.update_account(community.id, bob.hours_account_id, AccountChange(balance_min=None))
    with pytest.raises(errors.LimitExceeded):
        await ledger.post_entry(community.id, request, key)
    assert await ledger.list_entries(community.id) == []


async def test_completing_is_idempotent_too(ledger: Ledger, community: Community) -> None:
    ann, bob = await members(ledger, community, None, None)
    pending = await ledger.post_entry(
        community.id, transfer(bob.hours_account_id, ann.hours_account_id, 30, pending=True)
    )
    key = IdempotencyKey("s", "confirm")
    first = await ledger.post_pending(community.id, pending.id, key)
    assert await ledger.post_pending(community.id, pending.id, key) == first
    with pytest.raises(errors.IdempotencyConflict):
        await ledger.void_pending(community.id, pending.id, key)
    reversal = await ledger.reverse(
        community.id, pending.id, idempotency_key=IdempotencyKey("s", "r")
    )
    again = await ledger.reverse(community.id, pending.id, idempotency_key=IdempotencyKey("s", "r"))
    assert again == reversal


async def test_unknown_community_is_reported(ledger: Ledger) -> None:
    missing = uuid.uuid4()
    with pytest.raises(errors.CommunityNotFound):
        await ledger.create_member(missing, "Nobody")
    with pytest.raises(errors.CommunityNotFound):
        await ledger.post_entry(
            missing, transfer(uuid.uuid4(), uuid.uuid4(), 1), IdempotencyKey("s", "k")
        )


async def test_setup_writes_are_idempotent_too(ledger: Ledger, community: Community) -> None:
    key = IdempotencyKey("treasurer", "new-member")
    first = await ledger.create_member(community.id, "Dana", hours_min=-60, idempotency_key=key)
    again = await ledger.create_member(community.id, "Dana", hours_min=-60, idempotency_key=key)
    assert again == first
    assert len(await ledger.list_members(community.id)) == 1
    with pytest.raises(errors.IdempotencyConflict):
        await ledger.create_member(community.id, "Dana", hours_min=-30, idempotency_key=key)
    spec = NewAccount("cash", "Cash", AccountType.ASSET, HOURS)
    account_key = IdempotencyKey("treasurer", "cash")
    opened = await ledger.open_account(community.id, spec, account_key)
    assert await ledger.open_account(community.id, spec, account_key) == opened
    with pytest.raises(errors.AccountCodeExists):
        await ledger.open_account(community.id, spec)
    rename = IdempotencyKey("treasurer", "rename")
    renamed = await ledger.update_account(
        community.id, opened.id, AccountChange(name="Till"), rename
    )
    await ledger.update_account(community.id, opened.id, AccountChange(name="Box"))
    assert (
        await ledger.update_account(community.id, opened.id, AccountChange(name="Till"), rename)
        == renamed
    )
    assert (await ledger.get_account(community.id, opened.id)).name == "Box"
