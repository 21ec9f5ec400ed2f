"""Time-bank exchanges with a member of a linked community, and the directory members find
each other in.

A cross exchange is recorded by one of its two members in their own community — the provider
("I helped Bob of Hilltop 2 h") or the receiver ("Ann of Riverside helped me") — and is
confirmed or declined by the **other one**, in theirs: whoever recorded can never confirm
(``recorder_cannot_confirm``), so no member can move hours towards themselves alone. Each
community keeps its own row of the exchange (the same id), as each keeps its own row of a link.

Confirming moves the hours by the one way hours cross a link: a cross transfer
(``ledger.federation.transfers.direct``) from the receiver (payer) to the provider (payee),
whose id is the exchange's, in the same transaction that marks both rows confirmed — within
both sides' link limits and both members' own limits; a refusal rolls everything back and the
exchange stays pending. Declining moves nothing. Nothing is reserved while an exchange waits
(a cross transfer's hold window is minutes, a confirmation may take days): the limits are
checked when the hours move.

Audit operations: ``record_cross_exchange`` / ``receive_cross_exchange``,
``confirm_cross_exchange`` / ``partner_confirmed_cross_exchange``, ``decline_cross_exchange`` /
``partner_declined_cross_exchange`` → ``federation.exchange.*``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final, Protocol

from ledger.audit import chain as audit
from ledger.books.envelope import Done
from ledger.federation import errors, transfers
from ledger.federation.exchange_model import (
    CrossExchange,
    CrossRecord,
    CrossStatus,
    ExchangeRole,
    Listing,
)
from ledger.federation.model import Link, LinkStatus, TransferRequest
from ledger.federation.ports import FederationTransactions, FedTx
from ledger.federation.terms import in_force
from ledger.kernel import errors as kernel_errors
from ledger.kernel.inputs import check_page_size
from ledger.kernel.model import IdempotencyKey
from ledger.timebank.exchanges import check_exchange

HOURS: Final = "HOURS"


async def _partner_of(
    tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID, *, active: bool
) -> uuid.UUID:
    """The link's partner community on this install; with ``active``, the link must be active
    and carry hours. Not locked: the cross transfer that moves hours locks both link rows in
    the order every writer of link rows follows."""
    link = await tx.store.get_link(community_id, link_id)
    if link is None:
        raise errors.LinkNotFound(f"link {link_id} does not exist")
    if link.partner.community_id is None:
        raise errors.PartnerNotFound(f"the partner of link {link_id} lives on another node")
    if active:
        in_force(link, HOURS)
    return link.partner.community_id


async def _member(tx: FedTx, community_id: uuid.UUID, member_id: uuid.UUID) -> None:
    if await tx.repo.get_member(community_id, member_id) is None:
        raise kernel_errors.MemberNotFound(f"member {member_id} does not exist")


async def _audit(tx: FedTx, operation: str, row: CrossExchange, now: datetime) -> None:
    await tx.repo.append_audit(row.community_id, audit.event(operation, None, row, now))


async def answerable(
    tx: FedTx, community_id: uuid.UUID, exchange_id: uuid.UUID, member_id: uuid.UUID | None
) -> CrossExchange:
    """This side's row, locked, if ``member_id`` (None: an API key of the community) may
    confirm or decline it now: the recorder's counterparty, while it is pending."""
    row = await tx.store.get_exchange(community_id, exchange_id, lock=True)
    if row is None or member_id not in (None, row.member_id):
        raise errors.ExchangeNotFound(f"exchange {exchange_id} does not exist")
    if row.recorded_here:
        raise errors.RecorderCannotConfirm(
            "the member who recorded an exchange cannot confirm or decline it: "
            "the other member does, in their own community"
        )
    if row.status is not CrossStatus.PENDING:
        raise kernel_errors.EntryNotPending(f"exchange {exchange_id} is {row.status}")
    return row


class BetweenNodes(Protocol):
    """Cross exchanges over links to other nodes (``ledger.federation.remote_exchanges``)."""

    async def remote_link(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Link | None: ...
    async def is_remote(self, community_id: uuid.UUID, exchange_id: uuid.UUID) -> bool: ...
    async def record(
        self,
        community_id: uuid.UUID,
        record: CrossRecord,
        listed: Sequence[Listing] | None,
        key: IdempotencyKey | None = None,
    ) -> CrossExchange:
        """``listed``: the partner node's directory when it answered (the member must be in
        it: ``member_not_found``, decided under the request's idempotency key)."""
        ...

    async def complete(
        self,
        community_id: uuid.UUID,
        exchange_id: uuid.UUID,
        member_id: uuid.UUID | None,
        *,
        confirm: bool,
        key: IdempotencyKey | None = None,
    ) -> CrossExchange: ...


class PartnerDirectory(Protocol):
    """The directory of a partner on another node (``ledger.federation.remote_directory``)."""

    async def listings(self, community_id: uuid.UUID, link: Link) -> Sequence[Listing] | None:
        """None when the partner node cannot tell now."""
        ...


class CrossExchanges:
    def __init__(self, transactions: FederationTransactions) -> None:
        self._transactions = transactions
        self._remote: BetweenNodes | None = None
        self._partners: PartnerDirectory | None = None

    def reach_other_nodes(self, remote: BetweenNodes, directory: PartnerDirectory) -> None:
        """Exchanges over links to other nodes go by signed messages, their directories are
        read from those nodes (wired where the peer part is: ``api.bootstrap``)."""
        self._remote = remote
        self._partners = directory

    async def _partner_listing(
        self, community_id: uuid.UUID, link: Link
    ) -> Sequence[Listing] | None:
        """The partner node's directory, read before the write (never inside a transaction);
        None when the link is not active or the partner node cannot tell now — it checks the
        listing again when the record arrives."""
        if self._partners is None or link.status is not LinkStatus.ACTIVE:
            return None
        return await self._partners.listings(community_id, link)

    async def record(
        self, community_id: uuid.UUID, record: CrossRecord, key: IdempotencyKey | None = None
    ) -> CrossExchange:
        """A pending cross exchange, one row on each side (``link_not_found``,
        ``link_not_active``, ``commodity_not_carried``, ``member_not_found``,
        ``invalid_input``)."""
        check_exchange(
            record.member_id,
            record.partner_member_id,
            record.minutes,
            record.description,
            record.category,
        )
        if self._remote is not None:
            link = await self._remote.remote_link(community_id, record.link_id)
            if link is not None:
                listed = await self._partner_listing(community_id, link)
                return await self._remote.record(community_id, record, listed, key)
        now = self._transactions.clock()

        async def work(tx: FedTx) -> Done[CrossExchange]:
            partner_id = await _partner_of(tx, community_id, record.link_id, active=True)
            await _member(tx, community_id, record.member_id)
            await _member(tx, partner_id, record.partner_member_id)
            here = record.row(community_id, now)
            there = here.mirror(partner_id)
            await tx.store.insert_exchange(here)
            await tx.store.insert_exchange(there)
            await tx.repo.lock_audit_heads([community_id, partner_id])  # see transfers._direct
            await _audit(tx, "receive_cross_exchange", there, now)
            return Done(here, "record_cross_exchange")

        return await self._transactions.write(
            community_id, "record_cross_exchange", record, key, work=work, result_type=CrossExchange
        )

    async def complete(
        self,
        community_id: uuid.UUID,
        exchange_id: uuid.UUID,
        member_id: uuid.UUID | None,
        *,
        confirm: bool,
        key: IdempotencyKey | None = None,
    ) -> CrossExchange:
        """Confirms (the hours cross the link) or declines (nothing moves) a pending cross
        exchange, by ``member_id``, the recorder's counterparty (None: an API key of this
        community acting for its member). ``exchange_not_found``, ``recorder_cannot_confirm``,
        ``entry_not_pending``, and every refusal of a cross transfer."""
        now = self._transactions.clock()
        operation = "confirm_cross_exchange" if confirm else "decline_cross_exchange"

        if self._remote is not None and await self._remote.is_remote(community_id, exchange_id):
            return await self._remote.complete(
                community_id, exchange_id, member_id, confirm=confirm, key=key
            )

        async def work(tx: FedTx) -> Done[CrossExchange]:
            row = await answerable(tx, community_id, exchange_id, member_id)
            partner_id = await _partner_of(tx, community_id, row.link_id, active=confirm)
            if confirm:
                await _move_hours(tx, row, partner_id, now)
            status = CrossStatus.CONFIRMED if confirm else CrossStatus.DECLINED
            done = replace(row, status=status, completed_at=now)
            there = done.mirror(partner_id)
            await tx.store.complete_exchange(done)
            await tx.store.complete_exchange(there)
            await tx.repo.lock_audit_heads([community_id, partner_id])  # see transfers._direct
            await _audit(
                tx, f"partner_{'confirmed' if confirm else 'declined'}_cross_exchange", there, now
            )
            return Done(done, operation)

        return await self._transactions.write(
            community_id,
            operation,
            (exchange_id, member_id),
            key,
            work=work,
            result_type=CrossExchange,
        )

    async def get(self, community_id: uuid.UUID, exchange_id: uuid.UUID) -> CrossExchange:
        async with self._transactions.read() as tx:
            found = await tx.store.get_exchange(community_id, exchange_id)
        if found is None:
            raise errors.ExchangeNotFound(f"exchange {exchange_id} does not exist")
        return found

    async def list_exchanges(
        self,
        community_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None = None,
        status: CrossStatus | None = None,
        after: uuid.UUID | None = None,
        limit: int = 50,
    ) -> Sequence[CrossExchange]:
        check_page_size(limit)
        async with self._transactions.read() as tx:
            return await tx.store.list_exchanges(
                community_id, member_id=member_id, status=status, after=after, limit=limit
            )

    async def set_listed(self, community_id: uuid.UUID, member_id: uuid.UUID, listed: bool) -> None:
        """A member's choice to be listed (or not) in the directory linked communities read."""
        now = self._transactions.clock()
        async with self._transactions.step() as tx:
            await _member(tx, community_id, member_id)
            await tx.store.set_listed(community_id, member_id, listed, now)

    async def is_listed(self, community_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        async with self._transactions.read() as tx:
            return await tx.store.is_listed(community_id, member_id)

    async def directory(self, community_id: uuid.UUID) -> Sequence[Listing]:
        """The listed members of every community this one has an active link with — on this
        install, or on another node when it answers (``remote_directory``) — by community then
        name. Nobody else: unlisted members, the community's own
        members and those of proposed, suspended or closed links are left out."""
        found: list[Listing] = []
        elsewhere: list[Link] = []
        async with self._transactions.read() as tx:
            links = await tx.store.list_links(community_id, after=None, limit=500)
            for link in links:
                partner_id = link.partner.community_id
                if link.status is not LinkStatus.ACTIVE:
                    continue
                if partner_id is None:
                    elsewhere.append(link)
                    continue
                for member_id, name in await tx.store.listed_members(partner_id):
                    found.append(
                        Listing(link.partner.slug, link.partner.name, link.id, member_id, name)
                    )
        # Partners on other nodes are asked outside the transaction (``remote_directory``).
        for link in elsewhere if self._partners is not None else ():
            assert self._partners is not None
            found.extend(await self._partners.listings(community_id, link) or ())
        return sorted(found, key=lambda x: (x.community_slug, x.name, x.member_id))


async def _move_hours(tx: FedTx, row: CrossExchange, partner_id: uuid.UUID, now: datetime) -> None:
    """The cross transfer from the receiver to the provider, id = the exchange's."""
    receiver_here = row.role is ExchangeRole.RECEIVER
    payer_community = row.community_id if receiver_here else partner_id
    request = TransferRequest(
        transfer_id=row.id,
        link_id=row.link_id,
        payer_member_id=row.member_id if receiver_here else row.partner_member_id,
        payee_member_id=row.partner_member_id if receiver_here else row.member_id,
        commodity=HOURS,
        amount=row.minutes,
        min_received=1,
        description=row.description,
    )
    payer = await transfers.direct(tx, payer_community, request, now)
    await tx.repo.append_audit(
        payer_community, audit.event("federation_transfer", None, payer, now)
    )
