"""Pure builder of the federation section: per link and commodity, the balance with the partner,
the use of each limit, and the cross transfers of the period; the cross entries by category."""

from __future__ import annotations

import uuid
from dataclasses import replace

from ledger.federation.model import CommodityTerms, Link, LinkStatus
from ledger.federation.terms import in_force, version_in_force
from reports.financial import Movements, normal_amount
from reports.queries.federation import CategoryCrossed, Crossed
from reports.queries.figures import AccountRow
from reports.queries.movements import Movement
from reports.ratios import ratio
from reports.timebank import UNCATEGORISED
from reports.values import CrossCategory, Federation, FederationLink, LinkCommodity

_NOTHING = Crossed()


def shown_terms(link: Link) -> tuple[CommodityTerms, ...]:
    """The terms a reader should see: those in force (with the stricter limits of newer terms
    awaiting adoption, by the one rule of ``ledger.federation.terms``) whatever the link's
    status; a link not yet adopted shows what was proposed."""
    current = version_in_force(link)
    if current is None:
        return link.versions[0].commodities if link.versions else ()
    as_if_active = replace(link, status=LinkStatus.ACTIVE)
    return tuple(in_force(as_if_active, t.commodity).terms for t in current.commodities)


def federation(
    links: list[Link],
    accounts: list[AccountRow],
    to_date: Movements,
    crossed: dict[tuple[uuid.UUID, str], Crossed],
    categories: list[CategoryCrossed],
) -> Federation:
    account_of = {a.id: a for a in accounts}
    shown = []
    for link in links:
        commodities = tuple(
            _commodity(t, account_of, to_date, crossed.get((link.id, t.commodity), _NOTHING))
            for t in shown_terms(link)
        )
        quiet = all(c.owed == 0 and not (c.sent_count or c.received_count) for c in commodities)
        if link.status is LinkStatus.CLOSED and quiet:
            continue
        shown.append(FederationLink(link.id, link.partner.name, link.status.value, commodities))
    return Federation(
        links=tuple(shown),
        by_category=tuple(
            CrossCategory(c.category or UNCATEGORISED, c.commodity, c.transfers, c.amount)
            for c in categories
        ),
    )


def _commodity(
    terms: CommodityTerms,
    account_of: dict[uuid.UUID, AccountRow],
    to_date: Movements,
    crossed: Crossed,
) -> LinkCommodity:
    account = account_of.get(terms.clearing_account_id) if terms.clearing_account_id else None
    owed = 0
    if account is not None:  # credit-normal: its balance is what this community owes
        owed = normal_amount(account, to_date.get(account.id, Movement(0, 0)))
    return LinkCommodity(
        commodity=terms.commodity,
        partner_commodity=terms.partner_commodity,
        rate_numerator=terms.rate.numerator,
        rate_denominator=terms.rate.denominator,
        owed=owed,
        limit_we_owe=terms.limit_we_owe,
        limit_they_owe=terms.limit_they_owe,
        we_owe_used=ratio(max(owed, 0), terms.limit_we_owe),
        they_owe_used=ratio(max(-owed, 0), terms.limit_they_owe),
        sent_count=crossed.out_count,
        sent=crossed.out_amount,
        received_count=crossed.in_count,
        received=crossed.in_amount,
    )
