"""Which terms of a link hold now, and the checks of a terms proposal.

A version is in force once both sides adopted it. Until a newer version is adopted on both
sides, the stricter of it and the version in force holds for limits (the lower of each; a
commodity the newer version drops may not cross at all), while the rate, the commodity list and
the hold window stay those of the version in force: a party can tighten at once what it lets
cross, but never loosen it, nor change a price, without the other's adoption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ledger.federation import errors
from ledger.federation.model import (
    HOLD_WINDOW_MAX_S,
    HOLD_WINDOW_MIN_S,
    CommodityTerms,
    Link,
    LinkStatus,
    TermsVersion,
)
from ledger.kernel import errors as kernel_errors
from ledger.kernel.model import AMOUNT_ABS_MAX, COMMODITY_CODE_PATTERN

_RATE_PART_MAX = 10**12


@dataclass(frozen=True, slots=True)
class InForce:
    """The terms that hold for one commodity now."""

    version: int
    terms: CommodityTerms
    hold_window_s: int


def version_in_force(link: Link) -> TermsVersion | None:
    """The newest version adopted on both sides, if any."""
    adopted = [v for v in link.versions if v.adopted]
    return max(adopted, key=lambda v: v.version) if adopted else None


def in_force(link: Link, commodity: str) -> InForce:
    """The terms for ``commodity`` now: ``link_not_active`` unless the link is active,
    ``commodity_not_carried`` unless the version in force carries it."""
    current = version_in_force(link)
    if link.status is not LinkStatus.ACTIVE or current is None:
        raise errors.LinkNotActive(f"link {link.id} is {link.status}: nothing crosses it")
    terms = current.terms_for(commodity)
    if terms is None:
        raise errors.CommodityNotCarried(f"link {link.id} does not carry {commodity}")
    for newer in link.versions:
        if newer.version <= current.version:
            continue
        proposed = newer.terms_for(commodity)
        if proposed is None:
            terms = replace(terms, limit_we_owe=0, limit_they_owe=0)
        else:
            terms = replace(
                terms,
                limit_we_owe=min(terms.limit_we_owe, proposed.limit_we_owe),
                limit_they_owe=min(terms.limit_they_owe, proposed.limit_they_owe),
            )
    return InForce(current.version, terms, current.hold_window_s)


def check_terms(commodities: tuple[CommodityTerms, ...], hold_window_s: int) -> None:
    """``invalid_input`` unless the terms are well formed: at least one commodity, each once,
    positive rates, limits ≥ 0, a hold window within bounds."""
    if not commodities:
        raise kernel_errors.InvalidInput("terms name at least one commodity")
    if len({t.commodity for t in commodities}) != len(commodities):
        raise kernel_errors.InvalidInput("terms name each commodity once")
    if len({t.partner_commodity for t in commodities}) != len(commodities):
        raise kernel_errors.InvalidInput("terms name each partner commodity once")
    for terms in commodities:
        for code in (terms.commodity, terms.partner_commodity):
            if not isinstance(code, str) or re.fullmatch(COMMODITY_CODE_PATTERN, code) is None:
                raise kernel_errors.InvalidInput(f"{code!r} is not a commodity code")
        for part in (terms.rate.numerator, terms.rate.denominator):
            if type(part) is not int or not 1 <= part <= _RATE_PART_MAX:
                raise kernel_errors.InvalidInput(
                    f"a rate's numerator and denominator are integers from 1 to {_RATE_PART_MAX}"
                )
        for limit in (terms.limit_we_owe, terms.limit_they_owe):
            # The partner keeps the limit converted: it must fit there too.
            if (
                type(limit) is not int
                or not 0 <= limit <= AMOUNT_ABS_MAX
                or terms.rate.convert(limit) > AMOUNT_ABS_MAX
            ):
                raise kernel_errors.InvalidInput(
                    f"a link limit is an integer from 0 to {AMOUNT_ABS_MAX}, also converted"
                )
    if (
        type(hold_window_s) is not int
        or not HOLD_WINDOW_MIN_S <= hold_window_s <= HOLD_WINDOW_MAX_S
    ):
        raise kernel_errors.InvalidInput(
            f"the hold window is {HOLD_WINDOW_MIN_S}–{HOLD_WINDOW_MAX_S} seconds"
        )


def mirrored(version: TermsVersion) -> TermsVersion:
    """The version as the partner records it: its terms mirrored, proposed and adopted on the
    other side, without this side's consents."""
    return TermsVersion(
        version=version.version,
        commodities=tuple(t.mirror() for t in version.commodities),
        hold_window_s=version.hold_window_s,
        proposed_here=not version.proposed_here,
        proposed_at=version.proposed_at,
        adopted_here_at=version.adopted_there_at,
        adopted_there_at=version.adopted_here_at,
    )
