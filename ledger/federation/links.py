"""Links between two communities of this install: propose, accept, adopt versions, suspend,
resume, close, read.

Each community keeps its own row of a link; on one install both rows change in the same
transaction, each audited in its own community's trail. Terms versions are adopted on each side
by that community's governance, exactly as budgets are (``ledger.governance.budgets.rule_met``:
consensus or a quorum of current stewards); a version is in force once both sides adopted it,
and the first version's adoption on both sides makes the link active.

Audit operations: ``propose_link``, ``receive_link``, ``consent_link_version``,
``adopt_link_version``, ``activate_link``, ``propose_link_version``, ``suspend_link``,
``resume_link``, ``close_link`` (the partner's side records ``partner_``-prefixed ones).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from ledger.audit import chain as audit
from ledger.books.envelope import Done
from ledger.federation import errors, sides
from ledger.federation.model import (
    DEFAULT_HOLD_WINDOW_S,
    CommodityTerms,
    Link,
    LinkStatus,
    Partner,
    TermsVersion,
)
from ledger.federation.ports import FederationTransactions, FedTx, Work
from ledger.federation.terms import check_terms, mirrored
from ledger.kernel.inputs import check_page_size
from ledger.kernel.model import IdempotencyKey, new_id


async def both_sides(
    tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID
) -> tuple[Link, Link | None]:
    """This side's link and, when the partner is on this install, the partner's; both rows
    locked, in community id order so that two writers never deadlock."""
    seen = await tx.store.get_link(community_id, link_id)
    if seen is None:
        raise errors.LinkNotFound(f"link {link_id} does not exist")
    partner_id = seen.partner.community_id
    order = sorted({community_id, *([] if partner_id is None else [partner_id])})
    locked = {cid: await tx.store.get_link(cid, link_id, lock=True) for cid in order}
    here = locked[community_id]
    assert here is not None
    there = None if partner_id is None else locked[partner_id]
    if partner_id is not None and there is None:
        raise errors.NotParty(f"the partner holds no row of link {link_id}")
    return here, there


async def audit_partner(tx: FedTx, partner: Link | None, operation: str) -> None:
    """The partner's own audit record (and events) of a change made from this side."""
    if partner is not None:
        # Both chains' heads in community order, though the partner's record comes first: the
        # order every writer of several chains follows (``transfers._direct``).
        ours = partner.partner.community_id
        await tx.repo.lock_audit_heads([partner.community_id, *([ours] if ours else [])])
        event = audit.event(operation, None, partner, partner.updated_at)
        await tx.repo.append_audit(partner.community_id, event)


class PartnerNode(Protocol):
    """The partner's side of a link when it lives on another node: told of each change by a
    signed message in the change's own transaction (``ledger.federation.link_peer``)."""

    def next_version(self, link: Link) -> int: ...
    async def version_proposed(
        self, tx: FedTx, link: Link, version: TermsVersion, now: datetime
    ) -> None: ...
    async def version_adopted(self, tx: FedTx, link: Link, version: int, now: datetime) -> None: ...
    async def change_status(
        self, tx: FedTx, link: Link, status: LinkStatus, now: datetime
    ) -> Link | None: ...


class Links:
    def __init__(
        self, transactions: FederationTransactions, partner_node: PartnerNode | None = None
    ) -> None:
        self._transactions = transactions
        self._partner_node = partner_node

    def _node_of(self, link: Link) -> PartnerNode | None:
        """The partner node to tell of a change, for a link between installs."""
        if link.partner.node_url is None:
            return None
        if self._partner_node is None:
            raise errors.PartnerNotFound(f"this install does not reach link {link.id}'s partner")
        return self._partner_node

    async def propose(
        self,
        community_id: uuid.UUID,
        partner_slug: str,
        commodities: Sequence[CommodityTerms],
        hold_window_s: int = DEFAULT_HOLD_WINDOW_S,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Link:
        """A link to the community ``partner_slug`` of this install, proposed with terms
        version 1 (this side's view), to be adopted by both sides."""
        terms = tuple(replace(t, clearing_account_id=None) for t in commodities)
        check_terms(terms, hold_window_s)
        now = self._transactions.clock()

        async def work(tx: FedTx) -> Done[Link]:
            here = await tx.repo.get_community(community_id)
            there = await tx.repo.get_community_by_slug(partner_slug)
            if here is None or there is None or there.id == community_id:
                raise errors.PartnerNotFound(f"no other community {partner_slug!r} here")
            link_id = new_id()
            first = TermsVersion(1, terms, hold_window_s, proposed_here=True, proposed_at=now)
            views = {
                community_id: (Partner(there.slug, there.name, community_id=there.id), first),
                there.id: (Partner(here.slug, here.name, community_id=here.id), mirrored(first)),
            }
            # Both sides' rows in community id order, whoever proposes: two opposite proposals
            # then meet at the same first row (its open-link index makes the later one wait,
            # then refuses it as link_exists) instead of each holding the row the other needs.
            opened = {
                side: await sides.open_side(
                    tx, side, link_id=link_id, partner=views[side][0], first=views[side][1], now=now
                )
                for side in sorted(views)
            }
            link, partner = opened[community_id], opened[there.id]
            await audit_partner(tx, partner, "receive_link")
            return Done(link, "propose_link")

        request = [partner_slug, list(terms), hold_window_s]
        return await self._write(community_id, "propose_link", request, idempotency_key, work)

    async def consent(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        version: int,
        member_id: uuid.UUID,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Link:
        """A steward's consent to a terms version on this side (adopting a version); adopts it
        here when the community's rule is met, and tells the partner's side."""
        return await self._consent(community_id, link_id, version, member_id, idempotency_key)

    async def _consent(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        version: int,
        member_id: uuid.UUID,
        idempotency_key: IdempotencyKey | None,
        *,
        accepting: bool = False,
    ) -> Link:
        now = self._transactions.clock()

        async def work(tx: FedTx) -> Done[Link]:
            link, partner = await both_sides(tx, community_id, link_id)
            if accepting and (link.proposed_here or link.status is not LinkStatus.PROPOSED):
                raise errors.LinkStatusConflict(
                    f"link {link_id} is {link.status}; only the invited side accepts a "
                    "proposed link"
                )
            if link.status is LinkStatus.CLOSED:
                raise errors.LinkStatusConflict(f"link {link_id} is closed")
            terms = link.version(version)
            if terms is None:
                raise errors.VersionNotFound(f"link {link_id} has no version {version}")
            if any(c.member_id == member_id for c in terms.consents):
                return Done(link, None)
            was = link.status
            link, adopted = await sides.consent_here(tx, link, terms, member_id, now)
            also: tuple[str, ...] = ()
            if adopted:
                also = ("adopt_link_version",)
                if partner is not None:
                    partner = await sides.partner_adopted(tx, partner, version, now)
                    await audit_partner(tx, partner, "partner_adopted_link_version")
                elif node := self._node_of(link):
                    await node.version_adopted(tx, link, version, now)
            if was is not link.status:
                also = (*also, "activate_link")
                await audit_partner(tx, partner, "activate_link")
            return Done(link, "consent_link_version", also=also)

        operation = "accept_link" if accepting else "consent_link_version"
        request = [str(link_id), version, str(member_id)]
        return await self._write(community_id, operation, request, idempotency_key, work)

    async def accept(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        member_id: uuid.UUID,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Link:
        """The partner's acceptance of a proposed link: a steward's consent to version 1 on
        the side that did not propose it (``link_status_conflict`` on the proposer's side or
        for a link that is no longer proposed). Checked inside the write, so a refusal is kept
        under the idempotency key like any other answer."""
        return await self._consent(
            community_id, link_id, 1, member_id, idempotency_key, accepting=True
        )

    async def propose_version(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        commodities: Sequence[CommodityTerms],
        hold_window_s: int = DEFAULT_HOLD_WINDOW_S,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Link:
        """New terms (a changed limit or rate): version N + 1, in force once both sides adopt
        it; until then the stricter limits of it and the version in force hold."""
        terms = tuple(replace(t, clearing_account_id=None) for t in commodities)
        check_terms(terms, hold_window_s)
        now = self._transactions.clock()

        async def work(tx: FedTx) -> Done[Link]:
            link, partner = await both_sides(tx, community_id, link_id)
            if link.status in {LinkStatus.CLOSED, LinkStatus.PROPOSED}:
                raise errors.LinkStatusConflict(
                    f"link {link_id} is {link.status}: new terms follow an accepted link"
                )
            node = self._node_of(link)
            number = node.next_version(link) if node else max(v.version for v in link.versions) + 1
            version = TermsVersion(
                number, terms, hold_window_s, proposed_here=True, proposed_at=now
            )
            link = await sides.add_version(tx, community_id, link, version, now)
            if partner is not None:
                partner = await sides.add_version(
                    tx, partner.community_id, partner, mirrored(version), now
                )
                await audit_partner(tx, partner, "partner_proposed_link_version")
            elif node is not None:
                await node.version_proposed(tx, link, version, now)
            return Done(link, "propose_link_version")

        request = [str(link_id), list(terms), hold_window_s]
        return await self._write(
            community_id, "propose_link_version", request, idempotency_key, work
        )

    async def set_status(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        status: LinkStatus,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Link:
        """Suspends, resumes or closes the link on both sides (either side may suspend or
        close on its own; only the side that suspended resumes)."""
        operation = {
            LinkStatus.SUSPENDED: "suspend_link",
            LinkStatus.ACTIVE: "resume_link",
            LinkStatus.CLOSED: "close_link",
        }[status]
        now = self._transactions.clock()

        async def work(tx: FedTx) -> Done[Link]:
            link, partner = await both_sides(tx, community_id, link_id)
            if node := self._node_of(link):
                changed = await node.change_status(tx, link, status, now)
                return Done(link, None) if changed is None else Done(changed, operation)
            if link.status is status:
                return Done(link, None)
            link = await sides.change_status(tx, link, status, by_here=True, now=now)
            if partner is not None:
                partner = await sides.change_status(tx, partner, status, by_here=False, now=now)
                await audit_partner(tx, partner, f"partner_{operation}")
            return Done(link, operation)

        return await self._write(community_id, operation, str(link_id), idempotency_key, work)

    async def get(self, community_id: uuid.UUID, link_id: uuid.UUID) -> Link:
        async with self._transactions.read() as tx:
            return await _link(tx, community_id, link_id)

    async def list_links(
        self, community_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int = 50
    ) -> Sequence[Link]:
        check_page_size(limit)
        async with self._transactions.read() as tx:
            return await tx.store.list_links(community_id, after=after, limit=limit)

    async def _write(
        self,
        community_id: uuid.UUID,
        operation: str,
        request: object,
        key: IdempotencyKey | None,
        work: Work[Link],
    ) -> Link:
        return await self._transactions.write(
            community_id, operation, request, key, work=work, result_type=Link
        )


async def _link(tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID) -> Link:
    link = await tx.store.get_link(community_id, link_id)
    if link is None:
        raise errors.LinkNotFound(f"link {link_id} does not exist")
    return link
