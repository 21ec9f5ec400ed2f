"""The partner node's messages about a link between installs, taken here (``PeerReceiver``,
through the inbox: a repeat has no second effect, a changed body is refused), and their answers
recorded at the sender (``Courier``). ``ledger.federation.link_peer`` says what each carries.

A message this side can never take (malformed terms, a commodity this community does not have,
a version number that is not the sender's to give) is answered with a final refusal, kept in
the inbox like any answer: the proposal then stays on the proposer's side alone, where its
stricter limits hold until a newer version is adopted on both sides. A partner's adoption of a
version whose proposal has not arrived yet is refused for now (``link_version_not_found``), so
the sender asks again after its proposal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import msgspec
import structlog

from ledger.audit import chain as audit
from ledger.books.ports import UnitOfWork
from ledger.federation import errors, sides
from ledger.federation.courier import AnswerHandler
from ledger.federation.link_peer import (
    ADOPTED_STEP,
    CLOSED,
    OPEN,
    STATUS_STEP,
    SUSPENDED,
    VERSION_STEP,
    AdoptedBody,
    StanceStoreOf,
    StatusBody,
    VersionBody,
    effective,
    message_id,
    proposer_parity,
)
from ledger.federation.messages import LinkPeer, PeerMessage
from ledger.federation.model import Link, LinkStatus
from ledger.federation.peer_store import InboxKey, Outbound, PeerStoreOf
from ledger.federation.peering import Step
from ledger.federation.ports import FederationTransactions, FedTx
from ledger.federation.steps import link_of
from ledger.federation.terms import check_terms, mirrored
from ledger.kernel import errors as kernel_errors

log = structlog.get_logger("commons_ledger.federation")
_T = TypeVar("_T")
_STANCE_OPERATION = {
    SUSPENDED: "partner_suspend_link",
    OPEN: "partner_resume_link",
    CLOSED: "partner_close_link",
}


def _convert(body: dict[str, Any], kind: type[_T]) -> _T:
    try:
        return msgspec.convert(body, kind)
    except msgspec.ValidationError as exc:
        raise kernel_errors.InvalidInput(f"malformed link message: {exc}") from None


async def _audit(tx: FedTx, link: Link, operation: str, now: datetime) -> None:
    event = audit.event(operation, None, link, now)
    await tx.repo.append_audit(link.community_id, event)


class LinkSteps:
    def __init__(
        self,
        transactions: FederationTransactions,
        peers: PeerStoreOf,
        stances: StanceStoreOf,
    ) -> None:
        self._transactions = transactions
        self._peers = peers
        self._stances = stances

    def steps(self) -> dict[str, Step]:
        """What this node takes from partner nodes about links (``PeerReceiver``)."""
        return {
            VERSION_STEP: Step(self._version, recorded=True),
            ADOPTED_STEP: Step(self._adopted, recorded=True),
            STATUS_STEP: Step(self._status, recorded=True),
        }

    def answers(self) -> dict[str, AnswerHandler]:
        """How this node records the partner's answers (``Courier``): every answer is final."""
        return {
            VERSION_STEP: self._answered,
            ADOPTED_STEP: self._answered,
            STATUS_STEP: self._answered,
        }

    async def _version(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        body = _convert(message.body, VersionBody)
        tx = self._transactions.tx(uow)
        link = await link_of(tx, peer.community_id, message.link_id)
        proposed = body.terms_version()
        try:
            check_terms(proposed.commodities, proposed.hold_window_s)
            if body.version % 2 != proposer_parity(not link.proposed_here):
                raise kernel_errors.InvalidInput(
                    f"version {body.version} is not the partner's to give"
                )
            if link.version(body.version) is not None:
                raise errors.LinkStatusConflict(f"link {link.id} has a version {body.version}")
            ours = mirrored(proposed)
            for terms in ours.commodities:
                if await tx.repo.get_commodity(link.community_id, terms.commodity) is None:
                    raise kernel_errors.CommodityNotFound(
                        f"commodity {terms.commodity!r} does not exist"
                    )
        except kernel_errors.LedgerError as refused:
            return {"version": body.version, "refused": refused.code, "detail": refused.detail}
        now = self._transactions.clock()
        link = await sides.add_version(tx, link.community_id, link, ours, now)
        await _audit(tx, link, "partner_proposed_link_version", now)
        return {"version": body.version, "recorded": True}

    async def _adopted(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        body = _convert(message.body, AdoptedBody)
        tx = self._transactions.tx(uow)
        link = await link_of(tx, peer.community_id, message.link_id)
        version = link.version(body.version)
        if version is None:
            proposal = InboxKey(
                link.community_id,
                link.id,
                message_id(link.id, "version", body.version),
                VERSION_STEP,
            )
            if await self._peers(uow).received(proposal) is None:
                raise errors.VersionNotFound(
                    f"link {link.id} has no version {body.version} yet; ask again"
                )
            return {"version": body.version, "refused": "link_version_not_found"}
        if version.adopted_there_at is None:
            now = self._transactions.clock()
            link = await sides.partner_adopted(tx, link, body.version, now)
            await _audit(tx, link, "partner_adopted_link_version", now)
        return {"version": body.version, "adopted": True}

    async def _status(
        self, uow: UnitOfWork, message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        body = _convert(message.body, StatusBody)
        if body.stance not in _STANCE_OPERATION or body.seq < 1:
            raise kernel_errors.InvalidInput(
                f"a stance is open, suspended or closed, not {body.stance}"
            )
        tx = self._transactions.tx(uow)
        link = await link_of(tx, peer.community_id, message.link_id)
        stances = self._stances(uow)
        stance = await stances.stance(link.community_id, link.id)
        if body.seq <= stance.partner_seq:
            # An older change arriving after a newer one: the newer one stands.
            return {"status": str(link.status), "applied": False}
        partner_suspended = body.stance == SUSPENDED
        stance = replace(stance, partner_seq=body.seq, partner_suspended=partner_suspended)
        await stances.save(link.community_id, link.id, stance)
        if body.stance == CLOSED and link.status is not LinkStatus.CLOSED:
            new = LinkStatus.CLOSED
        else:
            new = effective(
                link, suspended_here=link.suspended_here, partner_suspended=partner_suspended
            )
        now = self._transactions.clock()
        if new is not link.status:
            here = link.suspended_here and new is not LinkStatus.CLOSED
            await tx.store.set_link_status(
                link.community_id, link.id, new, suspended_here=here, at=now
            )
        # The partner's act is audited here even when this side's own suspension keeps the
        # link suspended (the record shows the link as it now is).
        await _audit(tx, await sides.reread(tx, link), _STANCE_OPERATION[body.stance], now)
        return {"status": str(new), "applied": True}

    async def _answered(self, uow: UnitOfWork, sent: Outbound, answer: PeerMessage) -> bool:
        refused = answer.body.get("refused")
        if refused is not None:
            log.warning(
                "partner node refused a link message",
                link_id=str(sent.link_id),
                step=sent.step,
                refused=refused,
                detail=answer.body.get("detail"),
            )
            tx = self._transactions.tx(uow)
            link = await tx.store.get_link(sent.community_id, sent.link_id)
            if link is not None:
                operation = "partner_refused_" + sent.step.replace(".", "_")
                await _audit(tx, link, operation, self._transactions.clock())
        return True
