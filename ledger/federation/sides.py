"""The building blocks of a link's life on one side, shared by the use cases of one install
(``ledger.federation.links``, which apply them to both sides in one transaction) and the node
messages between installs (the peer part, which applies the partner's side when its message
arrives).

Each takes one side's transaction and changes only that side's rows.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from ledger.books.accounts import NewAccount, new_account
from ledger.federation import errors
from ledger.federation.model import (
    CommodityTerms,
    Link,
    LinkStatus,
    Partner,
    TermsVersion,
)
from ledger.federation.ports import FedTx
from ledger.governance.budgets import rule_met
from ledger.governance.model import Role
from ledger.governance.roles import require_role
from ledger.governance.transactions import Tx as GovernanceTx
from ledger.kernel import errors as kernel_errors
from ledger.kernel.model import Account, AccountType


async def _clearing_account(
    tx: FedTx,
    community_id: uuid.UUID,
    *,
    link_id: uuid.UUID,
    partner: Partner,
    commodity: str,
    now: datetime,
) -> uuid.UUID:
    """Opens the account of this community that stands for the partner in ``commodity``:
    credit-normal, its balance what this community owes the partner."""
    if await tx.repo.get_commodity(community_id, commodity) is None:
        raise kernel_errors.CommodityNotFound(f"commodity {commodity!r} does not exist")
    base = f"link:{partner.slug}:{commodity}"

    def account(code: str) -> Account:
        spec = NewAccount(
            code=code,
            name=f"Clearing with {partner.name} ({commodity})"[:200],  # people read names
            type=AccountType.LIABILITY,
            commodity=commodity,
        )
        return new_account(community_id, spec, now)

    opened = account(base)
    try:
        await tx.repo.insert_account(opened)
    except kernel_errors.AccountCodeExists:
        # A closed link's account keeps its history under the plain code; a new link starts
        # afresh under one of its own. The id's random tail, not its head: UUIDv7 begins with
        # the clock, the same for links made within a minute (12 hex digits keep the code ≤ 120).
        opened = account(f"{base}:{link_id.hex[-12:]}")
        await tx.repo.insert_account(opened)
    return opened.id


async def with_clearing_accounts(
    tx: FedTx,
    community_id: uuid.UUID,
    link_id: uuid.UUID,
    partner: Partner,
    commodities: tuple[CommodityTerms, ...],
    *,
    known: tuple[CommodityTerms, ...] = (),
    now: datetime,
) -> tuple[CommodityTerms, ...]:
    """``commodities`` naming this side's clearing account for each: the one of ``known``
    (earlier versions) or a new one."""
    opened = {t.commodity: t.clearing_account_id for t in known if t.clearing_account_id}
    result = []
    for terms in commodities:
        account_id = opened.get(terms.commodity) or await _clearing_account(
            tx,
            community_id,
            link_id=link_id,
            partner=partner,
            commodity=terms.commodity,
            now=now,
        )
        result.append(replace(terms, clearing_account_id=account_id))
    return tuple(result)


async def open_side(
    tx: FedTx,
    community_id: uuid.UUID,
    *,
    link_id: uuid.UUID,
    partner: Partner,
    first: TermsVersion,
    now: datetime,
) -> Link:
    """This side's row of a new link, proposed (by this side when ``first.proposed_here``),
    with a clearing account for each commodity of its first terms."""
    commodities = await with_clearing_accounts(
        tx, community_id, link_id, partner, first.commodities, now=now
    )
    link = Link(
        community_id=community_id,
        id=link_id,
        partner=partner,
        proposed_here=first.proposed_here,
        status=LinkStatus.PROPOSED,
        suspended_here=False,
        created_at=now,
        updated_at=now,
        versions=(replace(first, commodities=commodities),),
    )
    await tx.store.insert_link(link)
    return link


async def add_version(
    tx: FedTx, community_id: uuid.UUID, link: Link, version: TermsVersion, now: datetime
) -> Link:
    """A new terms version on this side (clearing accounts for commodities new to the link)."""
    known = tuple(t for v in link.versions for t in v.commodities)
    commodities = await with_clearing_accounts(
        tx, community_id, link.id, link.partner, version.commodities, known=known, now=now
    )
    version = replace(version, commodities=commodities)
    await tx.store.insert_version(community_id, link.id, version)
    return replace(link, versions=(*link.versions, version), updated_at=now)


async def consent_here(
    tx: FedTx, link: Link, version: TermsVersion, member_id: uuid.UUID, now: datetime
) -> tuple[Link, bool]:
    """A steward's consent to ``version`` on this side; adopts it here when the community's
    rule (consensus or quorum of stewards, as for budgets) is met. Returns the link and
    whether this consent adopted the version."""
    if any(c.member_id == member_id for c in version.consents):
        return link, False
    governance_tx = GovernanceTx(tx.repo, tx.governance)
    await require_role(governance_tx, link.community_id, member_id, Role.STEWARD, now)
    await tx.store.add_consent(link.community_id, link.id, version.version, member_id, now)
    consents = {c.member_id for c in version.consents} | {member_id}
    settings = await tx.governance.get_settings(link.community_id)
    stewards = await tx.governance.current_holders(link.community_id, Role.STEWARD, now)
    if version.adopted_here_at is not None or not rule_met(settings, stewards, consents):
        return await reread(tx, link), False
    await tx.store.mark_adopted(link.community_id, link.id, version.version, here=True, at=now)
    return await activate_if_adopted(tx, await reread(tx, link), version.version, now), True


async def partner_adopted(tx: FedTx, link: Link, version: int, now: datetime) -> Link:
    """Records that the partner adopted ``version`` (its message, or its side on this
    install)."""
    if link.version(version) is None:
        raise errors.VersionNotFound(f"link {link.id} has no version {version}")
    await tx.store.mark_adopted(link.community_id, link.id, version, here=False, at=now)
    return await activate_if_adopted(tx, await reread(tx, link), version, now)


async def activate_if_adopted(tx: FedTx, link: Link, version: int, now: datetime) -> Link:
    """A proposed link becomes active when its first version is adopted on both sides."""
    adopted = link.version(version)
    if link.status is LinkStatus.PROPOSED and adopted is not None and adopted.adopted:
        await tx.store.set_link_status(
            link.community_id, link.id, LinkStatus.ACTIVE, suspended_here=False, at=now
        )
        return replace(link, status=LinkStatus.ACTIVE, updated_at=now)
    return link


_NEXT: dict[tuple[LinkStatus, LinkStatus], str] = {
    (LinkStatus.ACTIVE, LinkStatus.SUSPENDED): "suspend",
    (LinkStatus.SUSPENDED, LinkStatus.ACTIVE): "resume",
    (LinkStatus.PROPOSED, LinkStatus.CLOSED): "close",
    (LinkStatus.ACTIVE, LinkStatus.CLOSED): "close",
    (LinkStatus.SUSPENDED, LinkStatus.CLOSED): "close",
}


def check_status_change(link: Link, status: LinkStatus, *, by_here: bool) -> None:
    """``link_status_conflict`` unless ``status`` may follow the link's: proposed → closed,
    active ⇄ suspended (only the side that suspended resumes), and any open status → closed."""
    if (link.status, status) not in _NEXT:
        raise errors.LinkStatusConflict(f"link {link.id} is {link.status}: it cannot be {status}")
    if status is LinkStatus.ACTIVE and link.suspended_here != by_here:
        raise errors.LinkStatusConflict(f"only the side that suspended link {link.id} resumes it")


async def change_status(
    tx: FedTx, link: Link, status: LinkStatus, *, by_here: bool, now: datetime
) -> Link:
    """Applies an allowed status change (:func:`check_status_change`) on this side."""
    check_status_change(link, status, by_here=by_here)
    suspended_here = status is LinkStatus.SUSPENDED and by_here
    await tx.store.set_link_status(
        link.community_id, link.id, status, suspended_here=suspended_here, at=now
    )
    return replace(link, status=status, suspended_here=suspended_here, updated_at=now)


async def reread(tx: FedTx, link: Link) -> Link:
    found = await tx.store.get_link(link.community_id, link.id)
    assert found is not None
    return found
