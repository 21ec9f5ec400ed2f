"""Cross time-bank exchanges between installs: the rules of ``ledger.federation.exchanges``
carried by signed messages through the peer outbox and inbox (``courier``, ``peering``).

Whoever recorded, the other member answers, so the recorder's node (R) records and the
counterparty's node (C) confirms or declines:

- **record** at R: R's row (``pending``) and an ``exchange_record`` message, in one
  transaction. C takes it through its inbox: the link is active and carries hours by C's terms,
  and C's member exists **and chose to be listed** (a partner node can name only the members
  its directory showed); then C writes its row, waiting for its member, and answers with the
  member's name. Otherwise C answers a refusal and R's row becomes ``refused`` with the reason.
- **confirm** at C: C's row becomes ``confirming`` and the hours go by the one way hours cross
  between installs, a cross transfer (``ledger.federation.remote``) from the receiver to the
  provider whose id is the exchange's. C's member the receiver: C prepares (its checks refuse at
  once, nothing written, the exchange stays pending). C's member the provider: an
  ``exchange_confirm`` message asks R to prepare; R's refusal makes both rows ``refused``.
  The transfer's end — the payee node's decision, then the payer node's settlement — makes each
  side's row ``confirmed`` or ``refused`` (``exchange_follow``): the hours move exactly once.
- **decline** at C: C's row ``declined`` and an ``exchange_decline`` message: R's row too.
- **directory**: C answers its listed members to the node at the other end of an active link.

Every message is keyed by (link, exchange id, step) in the receiver's inbox, so duplicates and
reorderings have no second effect (``peering``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import msgspec

from ledger.audit import chain as audit
from ledger.books.envelope import Done, WriteEnvelope
from ledger.books.ports import UnitOfWork, UnitOfWorkFactory
from ledger.federation import errors
from ledger.federation.courier import AnswerHandler
from ledger.federation.exchange_messages import (
    CONFIRM_STEP,
    DECLINE_STEP,
    DIRECTORY_STEP,
    RECORD_STEP,
    REFUSED,
    Answer,
    DirectoryPage,
    Listed,
    Record,
    check_record,
    convert,
    end,
    listed_name,
    not_found,
    payment,
    recorded_row,
    refused_answer,
)
from ledger.federation.exchange_model import (
    CrossExchange,
    CrossRecord,
    CrossStatus,
    ExchangeRole,
    Listing,
)
from ledger.federation.exchanges import answerable
from ledger.federation.messages import LinkPeer, PeerMessage
from ledger.federation.model import Link, LinkStatus
from ledger.federation.peer_store import Outbound, PeerStoreOf
from ledger.federation.peering import Step
from ledger.federation.ports import FederationTransactions
from ledger.federation.remote import prepare_and_send
from ledger.federation.steps import link_of
from ledger.federation.terms import in_force
from ledger.kernel import errors as kernel_errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import HOURS, IdempotencyKey, new_id
from ledger.kernel.observer import LedgerEvents
from ledger.timebank.exchanges import check_exchange


class RemoteExchanges:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        transactions: FederationTransactions,
        peers: PeerStoreOf,
        clock: Clock,
        events: LedgerEvents | None = None,
    ) -> None:
        self._transactions = transactions
        self._peers = peers
        self._clock = clock
        self._envelope = WriteEnvelope(units, clock, events)

    async def remote_link(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Link | None:
        """The link if its partner lives on another node (None otherwise, or unknown)."""
        async with self._transactions.read() as tx:
            link = await tx.store.get_link(community_id, link_id)
        return link if link is not None and link.partner.node_url is not None else None

    async def is_remote(self, community_id: uuid.UUID, exchange_id: uuid.UUID) -> bool:
        """Whether this side's row of the exchange is over a link to another node."""
        async with self._transactions.read() as tx:
            row = await tx.store.get_exchange(community_id, exchange_id)
        return row is not None and await self.remote_link(community_id, row.link_id) is not None

    async def _send(
        self, uow: UnitOfWork, link: Link, row: CrossExchange, step: str, body: dict[str, Any]
    ) -> None:
        assert link.partner.node_url is not None
        now = self._clock()
        await self._peers(uow).enqueue(
            Outbound(
                community_id=row.community_id,
                id=new_id(),
                link_id=link.id,
                transfer_id=row.id,
                step=step,
                peer_url=link.partner.node_url,
                body=body,
                created_at=now,
                expires_at=None,
                attempts=0,
                next_attempt_at=now,
            )
        )

    async def record(
        self,
        community_id: uuid.UUID,
        record: CrossRecord,
        listed: Sequence[Listing] | None,
        key: IdempotencyKey | None = None,
    ) -> CrossExchange:
        """R's row, pending, and the record on its way to the partner node (it waits in the
        outbox while that node is down). ``listed``: the partner's directory if it answered —
        a member not in it is refused here, under the request's key; None: the partner node
        checks when the record arrives."""
        check_exchange(
            record.member_id,
            record.partner_member_id,
            record.minutes,
            record.description,
            record.category,
        )
        now = self._clock()

        async def work(uow: UnitOfWork) -> Done[CrossExchange]:
            tx = self._transactions.tx(uow)
            link = await link_of(tx, community_id, record.link_id)
            in_force(link, HOURS)
            member = await tx.repo.get_member(community_id, record.member_id)
            if member is None:
                raise kernel_errors.MemberNotFound(f"member {record.member_id} does not exist")
            partner_name = listed_name(link, listed, record.partner_member_id)
            here = record.row(community_id, now, partner_name)
            await tx.store.insert_exchange(here)
            body = Record(
                record.role,
                record.member_id,
                member.name,
                record.partner_member_id,
                record.minutes,
                record.description,
                record.category,
            )
            await self._send(uow, link, here, RECORD_STEP, msgspec.to_builtins(body))
            return Done(here, "record_cross_exchange")

        return await self._envelope.decide(
            community_id,
            "record_cross_exchange",
            record,
            key,
            work=work,
            result_type=CrossExchange,
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
        """C's member confirms (``confirming``: the hours on their way) or declines."""
        now = self._clock()
        operation = "confirm_cross_exchange" if confirm else "decline_cross_exchange"

        async def work(uow: UnitOfWork) -> Done[CrossExchange]:
            tx = self._transactions.tx(uow)
            row = await answerable(tx, community_id, exchange_id, member_id)
            link = await link_of(tx, community_id, row.link_id)
            if not confirm:
                await self._send(uow, link, row, DECLINE_STEP, {})
                done = replace(row, status=CrossStatus.DECLINED, completed_at=now)
            else:
                in_force(link, HOURS)
                if row.role is ExchangeRole.RECEIVER:  # this side pays: prepare here
                    peers = self._peers(uow)
                    paid = await prepare_and_send(tx, peers, community_id, payment(row), now)
                    event = audit.event("federation_transfer", None, paid, now)
                    await tx.repo.append_audit(community_id, event)
                else:  # the recorder's side pays: it prepares on this message
                    await self._send(uow, link, row, CONFIRM_STEP, {})
                done = replace(row, status=CrossStatus.CONFIRMING)
            await tx.store.complete_exchange(done)
            return Done(done, operation)

        return await self._envelope.decide(
            community_id,
            operation,
            (exchange_id, member_id),
            key,
            work=work,
            result_type=CrossExchange,
        )

    def steps(self) -> dict[str, Step]:
        """What this node takes from partner nodes (``PeerReceiver``)."""
        return {
            RECORD_STEP: Step(self._on_record, recorded=True),
            CONFIRM_STEP: Step(self._on_confirm, recorded=True),
            DECLINE_STEP: Step(self._on_decline, recorded=True),
            DIRECTORY_STEP: Step(self._on_directory, recorded=False),
        }

    def answers(self) -> dict[str, AnswerHandler]:
        """How this node records partner nodes' answers (``Courier``)."""
        return {
            RECORD_STEP: self._recorded,
            CONFIRM_STEP: self._refused_when_confirming,
            DECLINE_STEP: self._refused_when_confirming,
        }

    async def _on_record(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        body = convert(message.body, Record)
        tx = self._transactions.tx(uow)
        now = self._clock()
        try:
            name = await check_record(tx, peer.community_id, message, body)
        except kernel_errors.LedgerError as refusal:
            return refused_answer(refusal)  # every check comes before anything is written
        row = CrossExchange(
            community_id=peer.community_id,
            id=message.transfer_id,
            link_id=message.link_id,
            role=body.role.other(),
            member_id=body.partner_member_id,
            partner_member_id=body.member_id,
            minutes=body.minutes,
            description=body.description,
            category=body.category,
            recorded_here=False,
            status=CrossStatus.PENDING,
            created_at=now,
            partner_name=body.member_name,
        )
        await tx.store.insert_exchange(row)
        event = audit.event("receive_cross_exchange", None, row, now)
        await tx.repo.append_audit(peer.community_id, event)
        return {"status": str(row.status), "name": name}

    async def _on_confirm(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        """At R, whose member received the help: prepare the payment, or refuse."""
        tx = self._transactions.tx(uow)
        now = self._clock()
        row = await recorded_row(tx, peer.community_id, message)
        if row is None or row.role is not ExchangeRole.RECEIVER:
            return not_found(message)
        if row.status is not CrossStatus.PENDING:
            return {"status": str(row.status)}
        try:
            paid = await prepare_and_send(tx, self._peers(uow), row.community_id, payment(row), now)
        except kernel_errors.LedgerError as refusal:  # raised before anything is written
            refused = {"status": CrossStatus.REFUSED, "reason": refusal.code, "completed_at": now}
            await end(tx, row, "cross_exchange_refused", now, **refused)
            return refused_answer(refusal)
        await tx.repo.append_audit(
            row.community_id, audit.event("federation_transfer", None, paid, now)
        )
        confirming = {"status": CrossStatus.CONFIRMING}
        await end(tx, row, "partner_confirmed_cross_exchange", now, **confirming)
        return {"status": str(CrossStatus.CONFIRMING)}

    async def _on_decline(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        tx = self._transactions.tx(uow)
        now = self._clock()
        row = await recorded_row(tx, peer.community_id, message)
        if row is None:
            return not_found(message)
        if row.status is CrossStatus.PENDING:
            declined = {"status": CrossStatus.DECLINED, "completed_at": now}
            await end(tx, row, "partner_declined_cross_exchange", now, **declined)
            return {"status": str(CrossStatus.DECLINED)}
        return {"status": str(row.status)}

    async def _on_directory(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        """This side's listed members, only over a link active on this side."""
        tx = self._transactions.tx(uow)
        link = await tx.store.get_link(peer.community_id, message.link_id)
        if link is None or link.status is not LinkStatus.ACTIVE:
            raise errors.LinkNotActive("the link is not active here: no directory is shared")
        listed = await tx.store.listed_members(peer.community_id)
        page = DirectoryPage([Listed(member_id, name) for member_id, name in listed])
        found: dict[str, Any] = msgspec.to_builtins(page)
        return found

    async def _recorded(self, uow: UnitOfWork, sent: Outbound, answer: PeerMessage) -> bool:
        """R learns C's answer to a record: refused (the row too), or the member's name."""
        body = convert(answer.body, Answer)
        tx = self._transactions.tx(uow)
        row = await tx.store.get_exchange(sent.community_id, sent.transfer_id, lock=True)
        if row is None:
            return True
        if body.status == REFUSED and row.status is CrossStatus.PENDING:
            refused = {"status": CrossStatus.REFUSED, "reason": body.reason}
            now = self._clock()
            await end(tx, row, "partner_refused_cross_exchange", now, completed_at=now, **refused)
        elif body.name is not None and row.partner_name != body.name:
            await tx.store.complete_exchange(replace(row, partner_name=body.name))
        return True

    async def _refused_when_confirming(
        self, uow: UnitOfWork, sent: Outbound, answer: PeerMessage
    ) -> bool:
        """C learns R refused to pay a confirmed exchange (its row then ``refused``)."""
        body = convert(answer.body, Answer)
        if body.status != REFUSED:
            return True
        tx = self._transactions.tx(uow)
        row = await tx.store.get_exchange(sent.community_id, sent.transfer_id, lock=True)
        if row is not None and row.status is CrossStatus.CONFIRMING:
            now = self._clock()
            change = {"status": CrossStatus.REFUSED, "reason": body.reason, "completed_at": now}
            await end(tx, row, "partner_refused_cross_exchange", now, **change)
        return True
