"""The demo's federation: a second community on the same install, Hilltop, linked to the demo
time-bank for hours (1:1, up to 20 hours owed each way), adopted by each side's stewards, with a
few cross transfers both ways.

Cross time-bank exchanges are not seeded yet: they are built on another branch; the place for
them is marked ``HOOK`` in :func:`seed_demo_federation`."""

from __future__ import annotations

from dataclasses import dataclass

from api.demo.governance import STEWARDS
from ledger.books.service import Ledger
from ledger.federation.model import CommodityTerms, Link, Rate, TransferRequest
from ledger.federation.service import Federation
from ledger.governance.model import Role
from ledger.governance.service import Governance
from ledger.kernel import errors
from ledger.kernel.model import HOURS, Community, Member, new_id

PARTNER_SLUG = "demo-hilltop"
PARTNER_NAME = "Hilltop Commons (demo)"
PARTNER_MEMBERS = ("Mira Potter", "Tom Fisher", "Sara Miller", "Yusuf Smith")
PARTNER_STEWARD = "Mira Potter"
HOURS_LIMIT = 20 * 60
"""How far each community may owe the other, minutes."""

CROSS_TRANSFERS = (
    # (payer, payee, minutes, description); payers of the demo time-bank pay Hilltop members.
    ("Ann Weaver", "Mira Potter", 120, "Glazing lesson at the Hilltop pottery"),
    ("Bob Gardener", "Tom Fisher", 90, "Smoked fish for the Friday supper"),
    ("Sara Miller", "Chloe Baker", 60, "Bread-making afternoon"),
    ("Yusuf Smith", "Ann Weaver", 45, "Loom repair"),
)


@dataclass(frozen=True, slots=True)
class DemoLink:
    """What the demo's federation holds, for the printout."""

    partner: Community
    link: Link
    created: bool
    transfers: int
    example_payer: Member
    example_payee: Member


async def seed_demo_federation(
    ledger: Ledger, governance: Governance, federation: Federation, community: Community
) -> DemoLink:
    """Hilltop, its link with ``community`` (the demo time-bank) and the cross transfers,
    unless Hilltop exists already (an older demo database gets them on its next run)."""
    ours = {m.name: m for m in await ledger.list_members(community.id, limit=100)}
    try:
        partner = await ledger.get_community_by_slug(PARTNER_SLUG)
    except errors.CommunityNotFound:
        pass
    else:
        theirs = {m.name: m for m in await ledger.list_members(partner.id, limit=100)}
        link = next(
            link
            for link in await federation.links.list_links(community.id)
            if link.partner.slug == PARTNER_SLUG
        )
        example = ours["Ann Weaver"], theirs[PARTNER_STEWARD]
        return DemoLink(partner, link, False, 0, *example)
    partner = await ledger.create_community(PARTNER_SLUG, PARTNER_NAME)
    theirs = {
        name: await ledger.create_member(partner.id, name, hours_min=-HOURS_LIMIT)
        for name in PARTNER_MEMBERS
    }
    await governance.roles.assign(partner.id, theirs[PARTNER_STEWARD].id, Role.STEWARD)
    link = await _link(federation, community, partner, [ours[name] for name in STEWARDS])
    await federation.links.accept(partner.id, link.id, theirs[PARTNER_STEWARD].id)
    people = ours | theirs
    for payer, payee, minutes, description in CROSS_TRANSFERS:
        paying = community.id if payer in ours else partner.id
        request = TransferRequest(
            new_id(), link.id, people[payer].id, people[payee].id, HOURS, minutes,
            min_received=minutes, description=description,
        )  # fmt: skip
        await federation.transfers.create(paying, request)
    # HOOK (cross exchanges, branch fed-members): record a few cross time-bank exchanges
    # here with ``federation.exchanges.record`` at the recorder's community and confirm them
    # at the counterparty's, with categories, and count them in ``DemoLink``.
    link = await federation.links.get(community.id, link.id)
    return DemoLink(
        partner, link, True, len(CROSS_TRANSFERS), ours["Ann Weaver"], theirs[PARTNER_STEWARD]
    )


async def _link(
    federation: Federation, community: Community, partner: Community, stewards: list[Member]
) -> Link:
    """The link proposed by the demo time-bank and adopted by its stewards' consent (as many
    as its rule needs)."""
    terms = CommodityTerms(HOURS, HOURS, Rate(1, 1), HOURS_LIMIT, HOURS_LIMIT)
    link = await federation.links.propose(community.id, partner.slug, [terms])
    for steward in stewards:
        link = await federation.links.consent(community.id, link.id, 1, steward.id)
        if link.versions[0].adopted_here_at is not None:
            break
    return link
