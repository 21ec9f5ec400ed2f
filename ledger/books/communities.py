"""Communities, their commodities and members: the use cases of ``Ledger`` that create and
read them."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from ledger.books import idempotency
from ledger.books.accounts import NewAccount, new_account
from ledger.books.cases import UseCases, community_found
from ledger.books.ports import Repository
from ledger.kernel import errors
from ledger.kernel.inputs import NAME_MAX_CHARS, check_page_size, require_text
from ledger.kernel.model import (
    COMMODITY_CODE_PATTERN,
    HOURS,
    SLUG_PATTERN,
    Account,
    AccountType,
    Commodity,
    Community,
    IdempotencyKey,
    Member,
    new_id,
)

_SLUG = re.compile(SLUG_PATTERN)
_COMMODITY_CODE = re.compile(COMMODITY_CODE_PATTERN)


async def earlier_creation(
    repo: Repository, slug: str, key: IdempotencyKey | None, fingerprint: str, now: datetime
) -> Community | None:
    """For a community creation under ``key``: the community an earlier request under the key
    created (its replay), ``idempotency_conflict`` if that request was another, None if the slug
    is free. A community's keys live in the community (``idempotency_keys.community_id``), so
    the key of a creation is looked up in the community its slug names; a slug taken without
    this key is ``community_exists`` (the claim made to look is rolled back with the error)."""
    existing = await repo.get_community_by_slug(slug)
    if existing is None:
        return None
    if key is not None:
        stored = await repo.claim_idempotency_key(existing.id, key, fingerprint, now)
        if stored is not None:
            return idempotency.replay(stored, fingerprint, Community)
    raise errors.CommunityExists(f"slug {slug!r} is taken")


async def record_creation(
    repo: Repository, community: Community, key: IdempotencyKey | None, fingerprint: str
) -> None:
    """Keeps the new ``community`` under ``key``, in the transaction that created it."""
    if key is not None:
        await repo.claim_idempotency_key(community.id, key, fingerprint, community.created_at)
        await repo.store_idempotency_result(community.id, key, idempotency.encode_result(community))


class CommunityCases(UseCases):
    """Creates and reads communities, their commodities and members."""

    async def create_community(
        self, slug: str, name: str, key: IdempotencyKey | None = None
    ) -> Community:
        """A new community, with its built-in ``HOURS`` commodity (minutes); under ``key``, a
        retry answers the same community (:func:`earlier_creation`)."""
        if not _SLUG.match(slug):
            raise errors.InvalidInput(
                f"slug {slug!r} must be 1–64 lowercase letters, digits or inner hyphens"
            )
        require_text("name", name)
        community = Community(id=new_id(), slug=slug, name=name, created_at=self._clock())
        fingerprint = idempotency.fingerprint("create_community", {"slug": slug, "name": name})
        async with self._uow(write=True) as uow:
            earlier = await earlier_creation(uow.repo, slug, key, fingerprint, community.created_at)
            if earlier is not None:
                return earlier
            await uow.repo.insert_community(community)
            await uow.repo.insert_commodity(Commodity(community.id, HOURS, "Hours", 0))
            await record_creation(uow.repo, community, key, fingerprint)
            await uow.repo.append_audit(
                community.id,
                self._audit_event("create_community", key, community),
            )
            await uow.commit()
        return community

    async def get_community(self, community_id: uuid.UUID) -> Community:
        async with self._uow(write=False) as uow:
            return community_found(await uow.repo.get_community(community_id), community_id)

    async def get_community_by_slug(self, slug: str) -> Community:
        async with self._uow(write=False, snapshot=False) as uow:
            community = await uow.repo.get_community_by_slug(slug)
        if community is None:
            raise errors.CommunityNotFound(f"community {slug!r} does not exist")
        return community

    async def add_commodity(
        self,
        community_id: uuid.UUID,
        code: str,
        name: str,
        scale: int,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Commodity:
        """A money or goods unit; ``scale`` is the decimal places of its display unit (0–9)."""
        if not _COMMODITY_CODE.match(code):
            raise errors.InvalidInput(
                f"commodity code {code!r} must be 1–24 capital letters, digits or underscores"
            )
        require_text("name", name)
        if type(scale) is not int or not 0 <= scale <= 9:
            raise errors.InvalidInput(f"scale must be an integer from 0 to 9, got {scale!r}")
        commodity = Commodity(community_id, code, name, scale)

        async def work(repo: Repository) -> Commodity:
            community_found(await repo.get_community(community_id), community_id)
            await repo.insert_commodity(commodity)
            return commodity

        return await self._idempotent(
            community_id,
            "add_commodity",
            commodity,
            idempotency_key,
            work=work,
            result_type=Commodity,
        )

    async def list_commodities(self, community_id: uuid.UUID) -> list[Commodity]:
        async with self._uow(write=False) as uow:
            return list(await uow.repo.list_commodities(community_id))

    async def create_member(
        self,
        community_id: uuid.UUID,
        name: str,
        *,
        hours_min: int | None = None,
        hours_max: int | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Member:
        """A member and, in the same transaction, their credit-normal ``HOURS`` account
        (limits in minutes)."""
        member, account = new_member(community_id, name, hours_min, hours_max, self._clock())

        async def work(repo: Repository) -> Member:
            community_found(await repo.get_community(community_id), community_id)
            await repo.insert_member(member)
            await repo.insert_account(account)
            return member

        request = [name, hours_min, hours_max]
        return await self._idempotent(
            community_id, "create_member", request, idempotency_key, work=work, result_type=Member
        )

    async def get_member(self, community_id: uuid.UUID, member_id: uuid.UUID) -> Member:
        async with self._uow(write=False) as uow:
            member = await uow.repo.get_member(community_id, member_id)
        if member is None:
            raise errors.MemberNotFound(f"member {member_id} does not exist")
        return member

    async def list_members(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 50
    ) -> list[Member]:
        """Members in the order they joined."""
        check_page_size(limit)
        async with self._uow(write=False) as uow:
            return list(await uow.repo.list_members(community_id, after=after, limit=limit))


def new_member(
    community_id: uuid.UUID,
    name: str,
    hours_min: int | None,
    hours_max: int | None,
    now: datetime,
) -> tuple[Member, Account]:
    """A member and their credit-normal ``HOURS`` account (limits in minutes), not yet stored."""
    require_text("name", name)
    member_id = new_id()
    spec = NewAccount(
        code=f"member:{member_id}",
        name=f"Hours of {name}"[:NAME_MAX_CHARS],
        type=AccountType.LIABILITY,
        commodity=HOURS,
        member_id=member_id,
        balance_min=hours_min,
        balance_max=hours_max,
    )
    account = new_account(community_id, spec, now)
    return Member(community_id, member_id, name, account.id, now), account
