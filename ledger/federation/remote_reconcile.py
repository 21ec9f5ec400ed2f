"""Reconciling a link, the one way the API read and ``commons-ledger federation reconcile``
share: on one install both journals are read directly (``Transfers.reconcile``); between
installs by **signed checkpoints** (``ledger.federation.checkpoints``).

Between installs this side signs its checkpoint at its journal's head and sends it in a
``checkpoint`` query; the partner node computes its own at the same seq (or at its head if it
is behind), compares, keeps both, and answers its own signed checkpoint. This side compares and
keeps both too. When the two agree at both heads, that is the answer — "agrees up to N" — and
no movement is fetched; otherwise only the partner's movements after the latest checkpoint both
agreed are fetched (signed ``journal`` queries) and compared with this side's from there
(``ledger.federation.journal.reconcile``), which names the first movement that differs. The
link's proposer exchanges checkpoints at an interval (``run``); either side on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
import structlog

from ledger.books.ports import UnitOfWork, UnitOfWorkFactory
from ledger.federation import errors
from ledger.federation.checkpoints import Own, open_checkpoint, own_checkpoint, sign_checkpoint
from ledger.federation.courier import Courier, SendFailed
from ledger.federation.identity import current
from ledger.federation.journal import (
    Checkpoint,
    CheckpointCheck,
    Exchanged,
    Held,
    Movement,
    Reconciliation,
    reconcile,
)
from ledger.federation.messages import LinkPeer, PeerForbidden, PeerMessage, PeerUnauthenticated
from ledger.federation.model import Link
from ledger.federation.peer_store import PeerStoreOf
from ledger.federation.peering import Step
from ledger.federation.ports import FederationTransactions, FedTx
from ledger.federation.remote import JOURNAL_PAGE, JOURNAL_STEP
from ledger.federation.steps import link_of
from ledger.federation.transfers import (
    LinkReconciliation,
    Transfers,
    books_agree,
    clearing_balances,
)
from ledger.kernel import errors as kernel_errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import new_id

log = structlog.get_logger("commons_ledger.federation")
CHECKPOINT_STEP: Final = "checkpoint"


class PartnerUnreachable(kernel_errors.LedgerError):
    """The partner node did not answer a reconciliation's query (HTTP 503: ask again later)."""

    code = "partner_node_unreachable"


kernel_errors.ERROR_TYPES[PartnerUnreachable.code] = PartnerUnreachable


@dataclass(frozen=True, slots=True)
class Exchange:
    """One exchange of checkpoints: this side's and the partner's at the same seq, compared."""

    mine: Own
    theirs: Checkpoint | None
    """None when the partner's signed checkpoint did not verify (``check`` names it)."""
    their_head: int
    check: CheckpointCheck


def compare(mine: Own, theirs: Checkpoint) -> CheckpointCheck:
    """The two sides' checkpoints at one seq, and what does not match, named."""
    ours = mine.checkpoint
    same_chain = ours.seq == theirs.seq and ours.hash == theirs.hash
    mirror = _nonzero(ours.partner_balances) == _nonzero(theirs.balances) and _nonzero(
        theirs.partner_balances
    ) == _nonzero(ours.balances)
    problem = mine.broken
    if problem is None and not same_chain:
        problem = f"the two sides' chain hashes differ at seq {theirs.seq}"
    elif problem is None and not mirror:
        problem = (
            f"the partner's signed checkpoint at seq {theirs.seq} gives balances that are not "
            "this side's mirror, although the chains are the same"
        )
    return CheckpointCheck(theirs.seq, same_chain, mirror, problem)


def _nonzero(balances: Mapping[str, int]) -> dict[str, int]:
    return {code: amount for code, amount in balances.items() if amount}


class RemoteReconciliation:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        transactions: FederationTransactions,
        courier: Courier,
        peers: PeerStoreOf,
        *,
        clock: Clock,
        node_url: str | None,
    ) -> None:
        self._units = units
        self._transactions = transactions
        self._courier = courier
        self._peers = peers
        self._clock = clock
        self._node_url = node_url

    def steps(self) -> dict[str, Step]:
        """What this node takes from partner nodes (``PeerReceiver``)."""
        return {CHECKPOINT_STEP: Step(self._answer, recorded=False)}

    async def reconcile(self, community_id: uuid.UUID, link_id: uuid.UUID) -> LinkReconciliation:
        """The link's two journals compared, and this side's books against its journal."""
        async with self._transactions.read() as tx:
            link = await tx.store.get_link(community_id, link_id)
        if link is None:
            raise errors.LinkNotFound(f"link {link_id} does not exist")
        if link.partner.node_url is None:
            return await Transfers(self._transactions).reconcile(community_id, link_id)
        exchange = await self.exchange(community_id, link_id)
        seq = exchange.check.seq
        theirs = exchange.theirs
        agreed = exchange.check.problem is None and theirs is not None
        if agreed and theirs is not None and exchange.mine.head == exchange.their_head == seq:
            journal = Reconciliation(seq, None, None, exchange.mine.checkpoint, theirs)
        else:
            journal = await self._compare_after_agreed(community_id, link, exchange)
        async with self._transactions.read() as tx:
            books = await clearing_balances(tx, link)
            waiting = await tx.store.held_movements(community_id, link.id)
            held = _held_balances(waiting, link)
            whole = (await own_checkpoint(tx, community_id, link)).checkpoint.balances
        owed = {code: whole.get(code, 0) + held.get(code, 0) for code in {*whole, *held}}
        agree = books_agree(books, owed)
        return LinkReconciliation(link.id, journal, books, agree, exchange.check, len(waiting))

    async def exchange(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Exchange:
        """Exchanges signed checkpoints with the partner node now; both sides keep them."""
        now = self._clock()
        async with self._units(write=False) as uow:
            tx = self._transactions.tx(uow)
            link = await tx.store.get_link(community_id, link_id)
            if link is None or link.partner.node_url is None or self._node_url is None:
                raise errors.PartnerNotFound(f"link {link_id} has no partner on another node")
            own = await own_checkpoint(tx, community_id, link)
            key = current(await self._peers(uow).keys())
            token = sign_checkpoint(
                own.checkpoint, key, sender=self._node_url, recipient=link.partner.node_url, now=now
            )
        answer = await self._ask(link_id, CHECKPOINT_STEP, {"signed": token})
        async with self._units(write=True) as uow:
            tx = self._transactions.tx(uow)
            peer = await self._peers(uow).peer(link_id, self._clock())
            if peer is None:
                raise PeerForbidden("the link has no partner node any more")
            try:
                theirs = open_checkpoint(answer.body.get("signed"), peer)
            except PeerUnauthenticated as exc:
                # Signed answer, changed checkpoint inside: named, nothing kept.
                check = CheckpointCheck(own.checkpoint.seq, False, False, exc.detail)
                return Exchange(own, None, own.head, check)
            link = await link_of(tx, community_id, link_id)
            mine = await own_checkpoint(tx, community_id, link, theirs.seq)
            if mine.broken is None and own.broken is not None:
                mine = Own(mine.checkpoint, mine.head, own.broken)  # named, and not kept
            check = await _keep(
                tx, community_id, mine, theirs, signed=answer.body["signed"], now=now
            )
            await uow.commit()
        head = answer.body.get("head")
        their_head = head if isinstance(head, int) else theirs.seq
        return Exchange(mine, theirs, their_head, check)

    async def _answer(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        """The partner's checkpoint compared with this side's at its seq and kept; this side's
        own at that seq (or at its head, if it is behind), signed."""
        now = self._clock()
        tx = self._transactions.tx(uow)
        theirs = open_checkpoint(message.body.get("signed"), peer)
        link = await link_of(tx, peer.community_id, message.link_id)
        mine = await own_checkpoint(tx, peer.community_id, link, theirs.seq)
        await _keep(tx, peer.community_id, mine, theirs, signed=message.body["signed"], now=now)
        if self._node_url is None:
            raise PeerForbidden("this node has no URL of its own")
        key = current(await self._peers(uow).keys())
        signed = sign_checkpoint(
            mine.checkpoint, key, sender=self._node_url, recipient=peer.peer_url, now=now
        )
        return {"signed": signed, "head": mine.head}

    async def _ask(self, link_id: uuid.UUID, step: str, body: dict[str, Any]) -> PeerMessage:
        try:
            return await self._courier.ask(link_id, step, body, new_id())
        except (SendFailed, OSError) as exc:
            raise PartnerUnreachable(f"the partner node did not answer: {exc}") from None

    async def _compare_after_agreed(
        self, community_id: uuid.UUID, link: Link, exchange: Exchange
    ) -> Reconciliation:
        """The journals compared from the latest checkpoint both sides agreed on."""
        async with self._transactions.read() as tx:
            agreed = await tx.store.checkpoints(
                community_id, link.id, upto=exchange.check.seq, agreed=True
            )
            start = agreed[0].ours if agreed else None
            ours = await _movements(tx, community_id, link.id, 0 if start is None else start.seq)
        theirs = await self._partner_movements(link.id, 0 if start is None else start.seq)
        return reconcile(link.id, link.proposed_here, ours, theirs, start)

    async def _partner_movements(self, link_id: uuid.UUID, after: int) -> list[Movement]:
        found: list[Movement] = []
        while True:
            body = {"after_seq": after + len(found), "limit": JOURNAL_PAGE}
            answer = await self._ask(link_id, JOURNAL_STEP, body)
            try:
                page = msgspec.convert(answer.body["movements"], list[Movement])
            except (KeyError, msgspec.ValidationError) as exc:
                raise kernel_errors.InvalidInput(
                    f"the partner's journal is malformed: {exc}"
                ) from None
            found.extend(page)
            if len(page) < JOURNAL_PAGE:
                return found

    async def exchange_due(self, every: timedelta) -> int:
        """Exchanges checkpoints on each link to another node this side proposed whose journal
        moved since its last checkpoint, at most once per ``every``; how many were exchanged.
        A partner that cannot be reached is tried again at the next pass."""
        now = self._clock()
        due: list[tuple[uuid.UUID, uuid.UUID]] = []
        async with self._units(write=False) as uow:
            tx = self._transactions.tx(uow)
            for community_id, link_id, _ in await self._peers(uow).remote_links():
                link = await tx.store.get_link(community_id, link_id)
                head = (await tx.store.journal_head(community_id, link_id) or (0, ""))[0]
                kept = await tx.store.checkpoints(community_id, link_id, upto=head)
                moved = head > 0 and (not kept or kept[0].ours.seq < head)
                recent = bool(kept) and kept[0].recorded_at + every > now
                if link is not None and link.proposed_here and moved and not recent:
                    due.append((community_id, link_id))
        done = 0
        for community_id, link_id in due:
            try:
                exchange = await self.exchange(community_id, link_id)
            except Exception:
                log.info("checkpoint not exchanged", link_id=str(link_id), exc_info=True)
                continue
            done += 1
            if exchange.check.problem is not None:
                log.warning(
                    "checkpoint disagrees", link_id=str(link_id), problem=exchange.check.problem
                )
        return done

    async def run(self, stop: asyncio.Event, every_s: float) -> None:
        """Exchanges due checkpoints every ``every_s`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.exchange_due(timedelta(seconds=every_s))
            except Exception:
                log.exception("checkpoint pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)


async def _keep(
    tx: FedTx,
    community_id: uuid.UUID,
    mine: Own,
    theirs: Checkpoint,
    *,
    signed: str,
    now: datetime,
) -> CheckpointCheck:
    """Compares the two checkpoints and keeps them when they are at the same seq and this
    side's journal is whole up to it."""
    check = compare(mine, theirs)
    # Seq 0 (an empty journal) vouches for nothing: not kept.
    if mine.broken is None and mine.checkpoint.seq == theirs.seq > 0:
        exchanged = Exchanged(mine.checkpoint, theirs.hash, signed, check.problem is None, now)
        await tx.store.keep_checkpoint(community_id, exchanged)
    return check


async def _movements(
    tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID, after: int
) -> list[Movement]:
    found: list[Movement] = []
    while True:
        page = await tx.store.movements(
            community_id, link_id, after_seq=after + len(found), limit=JOURNAL_PAGE
        )
        found.extend(page)
        if len(page) < JOURNAL_PAGE:
            return found


def _held_balances(waiting: Sequence[Held], link: Link) -> dict[str, int]:
    """What the movements held for their place in the journal change of what this side owes."""
    owed: dict[str, int] = {}
    for held in waiting:
        code, amount = held.after(None).signed(link.proposed_here)
        owed[code] = owed.get(code, 0) + amount
    return owed
