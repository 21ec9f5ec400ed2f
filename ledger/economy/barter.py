"""Barter: a trade in kind between two members, or a member and the community.

Each side gives goods (units of a goods commodity, e.g. ``EGGS``) and/or hours. A barter *is*
one posted journal entry of kind ``barter``: for every item, the receiving side's account in
that commodity is debited and the giving side's credited by its quantity, so the entry balances
per commodity by construction (and the core checks it again). It is written whole or not at all:
an unknown member or commodity, a closed account or a limit on any side rejects the whole trade,
including the goods accounts it would have opened.

Accounts: a member's ``HOURS`` account is the one they got on joining; for a goods commodity a
member trades in for the first time, the barter opens ``member:<id>:<CODE>`` (credit-normal like
the hours account: giving raises it) in the same transaction. The community's side uses the
hours pool ``Equity:HoursPool`` for hours and ``Assets:Goods:<CODE>`` for goods, opened the same
way when missing. The sides and the items' descriptions are kept in the entry's metadata (one
JSON text, since entry metadata is flat).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

import msgspec

from ledger.books import rules
from ledger.books.ports import Repository
from ledger.economy.chart import Designation
from ledger.economy.ports import Books, EconomyStore, write_entry
from ledger.kernel import errors
from ledger.kernel.inputs import check_page_size
from ledger.kernel.model import (
    AMOUNT_ABS_MAX,
    COMMODITY_CODE_PATTERN,
    HOURS,
    Account,
    AccountType,
    Entry,
    IdempotencyKey,
    NewEntry,
    PostingSpec,
    new_id,
)

BARTER_KIND: Final = "barter"
HOURS_POOL_CODE: Final = "Equity:HoursPool"
ITEM_DESCRIPTION_MAX_CHARS: Final = 200
ITEMS_MAX: Final = 20
_COMMODITY_CODE = re.compile(COMMODITY_CODE_PATTERN)


class BarterItem(msgspec.Struct, frozen=True):
    commodity: str
    quantity: int
    """Smallest unit of the commodity: minutes for HOURS, a count for goods."""
    description: str


class BarterSide(msgspec.Struct, frozen=True):
    member_id: uuid.UUID | None
    """None: the community itself."""
    gives: tuple[BarterItem, ...]


@dataclass(frozen=True, slots=True)
class Barter:
    """The view of a barter entry; ``id`` is the entry's id."""

    community_id: uuid.UUID
    id: uuid.UUID
    description: str
    sides: tuple[BarterSide, BarterSide]
    effective_date: date
    created_at: datetime

    def involves(self, member_id: uuid.UUID | None) -> bool:
        return member_id is not None and any(side.member_id == member_id for side in self.sides)

    @staticmethod
    def of(entry: Entry) -> Barter:
        barter = _barter_or_none(entry)
        if barter is None:
            raise not_found(entry.id)
        return barter


def not_found(barter_id: uuid.UUID) -> errors.EntryNotFound:
    return errors.EntryNotFound(f"barter {barter_id} does not exist")


_sides_decoder = msgspec.json.Decoder(tuple[BarterSide, BarterSide])


def _barter_or_none(entry: Entry) -> Barter | None:
    if entry.kind != BARTER_KIND:
        return None
    try:
        sides = _sides_decoder.decode(entry.metadata["sides"])
    except (KeyError, TypeError, msgspec.DecodeError):
        return None
    return Barter(
        entry.community_id, entry.id, entry.description, sides, entry.effective_date,
        entry.created_at,
    )  # fmt: skip


def check_barter(sides: Sequence[BarterSide], description: str) -> None:
    """The checks that need no database, all ``invalid_input``."""
    if len(sides) != 2:
        raise errors.InvalidInput("a barter has exactly two sides")
    if sides[0].member_id == sides[1].member_id:
        raise errors.InvalidInput("the two sides of a barter must be two different parties")
    rules.check_description(description)
    given: dict[str, int] = {}
    for index, side in enumerate(sides):
        if not 1 <= len(side.gives) <= ITEMS_MAX:
            raise errors.InvalidInput(f"side {index} must give 1 to {ITEMS_MAX} items")
        for item in side.gives:
            _check_item(item)
            if (
                given.setdefault(item.commodity, index) != index
                or sum(other.commodity == item.commodity for other in side.gives) > 1
            ):
                raise errors.InvalidInput(
                    f"{item.commodity} appears more than once; list each commodity once, "
                    "given by one side"
                )


def _check_item(item: BarterItem) -> None:
    if not isinstance(item.commodity, str) or not _COMMODITY_CODE.match(item.commodity):
        raise errors.InvalidInput(f"commodity {item.commodity!r} is no commodity code")
    if type(item.quantity) is not int or not 0 < item.quantity <= AMOUNT_ABS_MAX:
        raise errors.InvalidAmount(f"quantity must be a positive integer, got {item.quantity!r}")
    if (
        not isinstance(item.description, str)
        or not item.description.strip()
        or len(item.description) > ITEM_DESCRIPTION_MAX_CHARS
    ):
        raise errors.InvalidInput(
            f"each item needs a description of 1 to {ITEM_DESCRIPTION_MAX_CHARS} characters"
        )


class Barters:
    def __init__(self, books: Books) -> None:
        self._books = books

    async def record(
        self,
        community_id: uuid.UUID,
        sides: tuple[BarterSide, BarterSide],
        description: str,
        *,
        effective_date: date | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Barter:
        """One posted entry moving every item from its giver to the other side.
        ``member_not_found``, ``commodity_not_found``, ``account_closed``, ``limit_exceeded``."""
        check_barter(sides, description)
        rules.check_effective_date(effective_date)
        now = self._books.clock()

        async def work(repo: Repository, store: EconomyStore) -> Barter:
            # Every party needs an account in every commodity traded. They are found or opened in
            # one fixed order, so that two barters opening the same accounts never deadlock.
            commodities = {item.commodity for side in sides for item in side.gives}
            pairs = sorted(
                {(side.member_id, commodity) for side in sides for commodity in commodities},
                key=lambda pair: (str(pair[0] or ""), pair[1]),
            )
            account_of = {
                pair: await _account_of(repo, store, community_id, *pair, now=now) for pair in pairs
            }
            postings: list[PostingSpec] = []
            for index, side in enumerate(sides):
                receiver = sides[1 - index]
                for item in side.gives:
                    postings += [
                        PostingSpec(account_of[receiver.member_id, item.commodity], item.quantity),
                        PostingSpec(account_of[side.member_id, item.commodity], -item.quantity),
                    ]
            spec = NewEntry(
                postings=tuple(postings),
                description=description,
                effective_date=effective_date,
                kind=BARTER_KIND,
                metadata={"sides": msgspec.json.encode(sides).decode()},
            )
            return Barter.of(await write_entry(repo, community_id, spec, now))

        request = [sides, description, effective_date]
        return await self._books.write(
            community_id, "record_barter", request, idempotency_key, work=work, result_type=Barter
        )

    async def get(self, community_id: uuid.UUID, barter_id: uuid.UUID) -> Barter:
        async def work(repo: Repository, _: EconomyStore) -> Barter:
            entry = await repo.get_entry(community_id, barter_id)
            if entry is None:
                raise not_found(barter_id)
            return Barter.of(entry)

        return await self._books.read(work)

    async def list_barters(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None = None,
        after: uuid.UUID | None = None,
        limit: int = 50,
    ) -> list[Barter]:
        """Barters in recorded order; only those ``member_id`` takes part in, when given."""
        check_page_size(limit)

        async def work(repo: Repository, _: EconomyStore) -> list[Barter]:
            account_ids = None
            if member_id is not None:
                # Each side gives and receives, so a barter touches every party's accounts.
                own = await repo.list_accounts(community_id, member_id=member_id)
                account_ids = [account.id for account in own]
            entries = await repo.list_entries(
                community_id, after=after, limit=limit, account_ids=account_ids, kind=BARTER_KIND
            )
            found = [_barter_or_none(entry) for entry in entries]
            return [barter for barter in found if barter is not None]

        return await self._books.read(work)


async def _account_of(
    repo: Repository,
    store: EconomyStore,
    community_id: uuid.UUID,
    member_id: uuid.UUID | None,
    commodity: str,
    *,
    now: datetime,
) -> uuid.UUID:
    """The party's account in ``commodity`` (``member_id`` None: the community's), opened in
    this unit of work if missing."""
    # Accounts are named after the commodity's name, as people say it ("Eggs of Bob"), not its
    # code ("EGGS of Bob"): the name is what the member page and the report show.
    noun = "Hours"
    if commodity != HOURS:
        found_commodity = await repo.get_commodity(community_id, commodity)
        if found_commodity is None:
            raise errors.CommodityNotFound(f"commodity {commodity!r} does not exist")
        noun = found_commodity.name
    if member_id is not None:
        member = await repo.get_member(community_id, member_id)
        if member is None:
            raise errors.MemberNotFound(f"member {member_id} does not exist")
        if commodity == HOURS:
            return member.hours_account_id
        code, name = f"member:{member.id}:{commodity}", f"{noun} of {member.name}"
        account_type = AccountType.LIABILITY
    elif commodity == HOURS:
        code, name, account_type = HOURS_POOL_CODE, "Community hours pool", AccountType.EQUITY
    else:
        code, name = f"Assets:Goods:{commodity}", f"{noun} of the community"
        account_type = AccountType.ASSET
    found = await store.account_id_by_code(community_id, code)
    if found is not None:
        return found
    account = Account(
        community_id, new_id(), code, name[:200], account_type, commodity, member_id,
        None, None, False, now,
    )  # fmt: skip
    try:
        await repo.insert_account(account)
    except errors.AccountCodeExists:
        # A concurrent barter opened it first and committed; use that one.
        found = await store.account_id_by_code(community_id, code)
        assert found is not None
        return found
    if code == HOURS_POOL_CODE:
        await store.designate(community_id, account.id, Designation.HOURS_POOL)
    return account.id
