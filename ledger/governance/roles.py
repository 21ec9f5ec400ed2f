"""Rotating roles: who is steward or treasurer, and when.

A term gives ``member_id`` the powers of ``role`` from ``starts_at`` until ``ends_at``
(excluded; None: until ended). Powers follow the terms current *now* only: a term that has not
started, or has ended, grants nothing. Terms are never deleted; ending one early sets its end,
and both the assignment and the ending are recorded in the audit trail (``assign_role``,
``end_role``) as well as in the term itself (``assigned_at``, ``ended_at``).

Who may assign or end terms: an ``admin`` (the HTTP layer checks it) or a member holding a
current treasurer term (checked here, in the transaction that writes).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from ledger.books.envelope import Done
from ledger.governance.model import (
    NotASteward,
    NotATreasurer,
    Role,
    RoleTerm,
    RoleTermNotFound,
)
from ledger.governance.transactions import GovernanceTransactions, Tx
from ledger.kernel import errors
from ledger.kernel.model import IdempotencyKey, new_id


async def require_role(
    tx: Tx, community_id: uuid.UUID, member_id: uuid.UUID, role: Role, now: datetime
) -> None:
    """``not_a_steward`` / ``not_a_treasurer`` unless the member holds ``role`` now."""
    if role in await tx.store.current_roles(community_id, member_id, now):
        return
    if role is Role.STEWARD:
        raise NotASteward(f"member {member_id} holds no current steward term")
    raise NotATreasurer(f"member {member_id} holds no current treasurer term")


class Roles:
    def __init__(self, transactions: GovernanceTransactions) -> None:
        self._transactions = transactions

    async def assign(
        self,
        community_id: uuid.UUID,
        member_id: uuid.UUID,
        role: Role,
        *,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        by_member: uuid.UUID | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> RoleTerm:
        """A new term; ``by_member`` (when a member acts) must be a current treasurer."""
        role = Role(role)
        now = self._transactions.clock()
        start = starts_at or now
        if start.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
            raise errors.InvalidInput("term times need a time zone")
        if ends_at is not None and ends_at <= start:
            raise errors.InvalidInput("a term ends after it starts")
        term = RoleTerm(community_id, new_id(), member_id, role, start, ends_at, now, None)

        async def work(tx: Tx) -> Done[RoleTerm]:
            if by_member is not None:
                await require_role(tx, community_id, by_member, Role.TREASURER, now)
            if await tx.repo.get_member(community_id, member_id) is None:
                raise errors.MemberNotFound(f"member {member_id} does not exist")
            await tx.store.insert_term(term)
            return Done(term, "assign_role")

        request = [str(member_id), role, starts_at, ends_at]
        return await self._transactions.write(
            community_id,
            "assign_role",
            request,
            idempotency_key,
            work=work,
            result_type=RoleTerm,
        )

    async def end(
        self,
        community_id: uuid.UUID,
        term_id: uuid.UUID,
        *,
        by_member: uuid.UUID | None = None,
        idempotency_key: IdempotencyKey | None = None,
    ) -> RoleTerm:
        """Ends the term now (a term not yet started ends before it starts: it never grants
        anything). Ending a term that has already ended changes nothing."""
        now = self._transactions.clock()

        async def work(tx: Tx) -> Done[RoleTerm]:
            if by_member is not None:
                await require_role(tx, community_id, by_member, Role.TREASURER, now)
            term = await tx.store.get_term(community_id, term_id, lock=True)
            if term is None:
                raise RoleTermNotFound(f"role term {term_id} does not exist")
            if term.ends_at is not None and term.ends_at <= now:
                return Done(term, None)
            ends_at = max(now, term.starts_at)
            await tx.store.end_term(community_id, term_id, ends_at, now)
            return Done(replace(term, ends_at=ends_at, ended_at=now), "end_role")

        return await self._transactions.write(
            community_id,
            "end_role",
            str(term_id),
            idempotency_key,
            work=work,
            result_type=RoleTerm,
        )

    async def get(self, community_id: uuid.UUID, term_id: uuid.UUID) -> RoleTerm:
        async with self._transactions.read() as tx:
            term = await tx.store.get_term(community_id, term_id)
        if term is None:
            raise RoleTermNotFound(f"role term {term_id} does not exist")
        return term

    async def list_terms(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None = None,
        current: bool = False,
        after: uuid.UUID | None = None,
        limit: int = 50,
    ) -> Sequence[RoleTerm]:
        """Terms in assignment order (the history), or only those current now."""
        now = self._transactions.clock() if current else None
        async with self._transactions.read() as tx:
            return await tx.store.list_terms(
                community_id, member_id=member_id, current_at=now, after=after, limit=limit
            )

    async def current_roles(self, community_id: uuid.UUID, member_id: uuid.UUID) -> frozenset[Role]:
        """The roles ``member_id`` holds now (read when a member token authenticates)."""
        async with self._transactions.read() as tx:
            return await tx.store.current_roles(community_id, member_id, self._transactions.clock())

    async def current_role_names(
        self, community_id: uuid.UUID, member_id: uuid.UUID
    ) -> frozenset[str]:
        """``current_roles`` as plain names, for ``ledger.access.credentials.Access``."""
        return frozenset(role.value for role in await self.current_roles(community_id, member_id))
