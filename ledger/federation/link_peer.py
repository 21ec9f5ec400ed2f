"""A link between installs after the invitation: new terms versions, their adoption, suspending,
resuming and closing. Each change is made on this side by the use cases of ``links`` and told to
the partner node by a signed message put in the peer outbox in the change's own transaction
(``ledger.federation.courier`` sends it); the partner takes it through its idempotent inbox
(``ledger.federation.link_peer_steps``).

- ``link.version``: new terms proposed here (this side's view); the partner records the
  mirrored version. Until both sides adopted it the stricter terms hold, on each node as soon as
  it knows the version (``terms.in_force``). Version numbers never collide although each node
  numbers its own proposals without asking: the inviting side's versions are odd, the invited
  side's even (:func:`next_version`), so two proposals crossing on the wire are two versions.
- ``link.adopted``: this community's governance adopted a version (``sides.consent_here``,
  ``governance.budgets.rule_met``); the partner records it as adopted there. A version is in
  force once both sides adopted it.
- ``link.status``: this side's **stance** — open, suspended or closed — numbered by this side.
  The link is closed once either side closed it, suspended while either side suspends it, and
  only the side that suspended lifts its own suspension. The partner applies a stance only if
  its number is above the last one it applied, so a delayed or reordered status message never
  undoes a later change, and two sides suspending at once both have to resume.

Each message has a deterministic id (:func:`message_id`): a repeat is answered from the
partner's inbox with no second effect, and the same id with another body is refused there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Protocol

import msgspec

from ledger.federation import errors
from ledger.federation.model import CommodityTerms, Link, LinkStatus, Rate, TermsVersion
from ledger.federation.peer_store import Outbound, PeerStoreOf
from ledger.federation.ports import FedTx
from ledger.kernel.model import new_id
from ledger.kernel.uow import UnitOfWork

VERSION_STEP: Final = "link.version"
ADOPTED_STEP: Final = "link.adopted"
STATUS_STEP: Final = "link.status"
OPEN, SUSPENDED, CLOSED = "open", "suspended", "closed"


@dataclass(frozen=True, slots=True)
class Stance:
    """This side's numbering of its status changes and the partner's latest one applied."""

    sent_seq: int = 0
    partner_seq: int = 0
    partner_suspended: bool = False


class StanceStore(Protocol):
    async def stance(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Stance: ...
    async def save(self, community_id: uuid.UUID, link_id: uuid.UUID, stance: Stance) -> None: ...


StanceStoreOf = Callable[[UnitOfWork[Any]], StanceStore]


class TermsBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    commodity: str
    partner_commodity: str
    rate_numerator: int
    rate_denominator: int
    limit_we_owe: int
    limit_they_owe: int


class VersionBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: int
    hold_window_s: int
    proposed_at: datetime
    terms: list[TermsBody]

    def terms_version(self) -> TermsVersion:
        """The version as its proposer sees it."""
        commodities = tuple(
            CommodityTerms(
                t.commodity,
                t.partner_commodity,
                Rate(t.rate_numerator, t.rate_denominator),
                t.limit_we_owe,
                t.limit_they_owe,
            )
            for t in self.terms
        )
        return TermsVersion(self.version, commodities, self.hold_window_s, True, self.proposed_at)


class AdoptedBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: int


class StatusBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    stance: str
    seq: int


def message_id(link_id: uuid.UUID, kind: str, number: int) -> uuid.UUID:
    """The id of a link message (the inbox's and the outbox's ``transfer_id``): the same for
    every repeat of one version, adoption or status change."""
    return uuid.uuid5(link_id, f"{kind}/{number}")


def proposer_parity(proposed_by_inviter: bool) -> int:
    """The parity of the version numbers a side proposes: odd for the side that proposed the
    link (its version 1), even for the other."""
    return 1 if proposed_by_inviter else 0


def next_version(link: Link) -> int:
    """The number of this side's next proposal: above every version known here, of this side's
    parity, so the partner's proposals (the other parity) can never take it."""
    number = max(v.version for v in link.versions) + 1
    if number % 2 != proposer_parity(link.proposed_here):
        number += 1
    return number


def version_body(version: TermsVersion) -> dict[str, Any]:
    body = VersionBody(
        version=version.version,
        hold_window_s=version.hold_window_s,
        proposed_at=version.proposed_at,
        terms=[
            TermsBody(
                t.commodity,
                t.partner_commodity,
                t.rate.numerator,
                t.rate.denominator,
                t.limit_we_owe,
                t.limit_they_owe,
            )
            for t in version.commodities
        ],
    )
    built: dict[str, Any] = msgspec.to_builtins(body)
    return built


def effective(link: Link, *, suspended_here: bool, partner_suspended: bool) -> LinkStatus:
    """The link's status from both stances (a closed or proposed link stays as it is)."""
    if link.status in (LinkStatus.CLOSED, LinkStatus.PROPOSED):
        return link.status
    return LinkStatus.SUSPENDED if suspended_here or partner_suspended else LinkStatus.ACTIVE


class LinkMessages:
    """The partner node's side of the use cases of ``ledger.federation.links``: each change to
    a link between installs goes to the peer outbox in the change's transaction."""

    def __init__(self, peers: PeerStoreOf, stances: StanceStoreOf) -> None:
        self._peers = peers
        self._stances = stances

    def next_version(self, link: Link) -> int:
        return next_version(link)

    async def version_proposed(
        self, tx: FedTx, link: Link, version: TermsVersion, now: datetime
    ) -> None:
        body = version_body(version)
        await self._send(tx, link, VERSION_STEP, number=version.version, body=body, now=now)

    async def version_adopted(self, tx: FedTx, link: Link, version: int, now: datetime) -> None:
        body = msgspec.to_builtins(AdoptedBody(version))
        await self._send(tx, link, ADOPTED_STEP, number=version, body=body, now=now)

    async def change_status(
        self, tx: FedTx, link: Link, status: LinkStatus, now: datetime
    ) -> Link | None:
        """This side's stance changed to ``status`` (the link's row locked); None when nothing
        changes. ``link_status_conflict`` for a closed link, or a resume by the side that did
        not suspend."""
        if link.status is LinkStatus.CLOSED:
            raise errors.LinkStatusConflict(f"link {link.id} is closed")
        stances = self._stances(_unit(tx))
        stance = await stances.stance(link.community_id, link.id)
        if status is LinkStatus.CLOSED:
            new, here, word = LinkStatus.CLOSED, False, CLOSED
        elif status is LinkStatus.SUSPENDED:
            if link.suspended_here:
                return None
            new, here, word = LinkStatus.SUSPENDED, True, SUSPENDED
        else:
            if link.status is LinkStatus.ACTIVE:
                return None
            if not link.suspended_here:
                raise errors.LinkStatusConflict(
                    f"only the side that suspended link {link.id} resumes it"
                )
            here, word = False, OPEN
            new = effective(link, suspended_here=False, partner_suspended=stance.partner_suspended)
        await tx.store.set_link_status(link.community_id, link.id, new, suspended_here=here, at=now)
        seq = stance.sent_seq + 1
        await stances.save(link.community_id, link.id, replace(stance, sent_seq=seq))
        body = msgspec.to_builtins(StatusBody(word, seq))
        await self._send(tx, link, STATUS_STEP, number=seq, body=body, now=now)
        return replace(link, status=new, suspended_here=here, updated_at=now)

    async def _send(
        self, tx: FedTx, link: Link, step: str, *, number: int, body: dict[str, Any], now: datetime
    ) -> None:
        assert link.partner.node_url is not None, "a link between installs names its peer"
        kind = step.removeprefix("link.")
        await self._peers(_unit(tx)).enqueue(
            Outbound(
                community_id=link.community_id,
                id=new_id(),
                link_id=link.id,
                transfer_id=message_id(link.id, kind, number),
                step=step,
                peer_url=link.partner.node_url,
                body=body,
                created_at=now,
                expires_at=None,
                attempts=0,
                next_attempt_at=now,
            )
        )


def _unit(tx: FedTx) -> UnitOfWork[Any]:
    assert tx.unit is not None, "a change told to a partner node runs in a unit of work"
    return tx.unit
