"""The pieces the protocol steps share (``ledger.federation.protocol``): the link and member
lookups, the quote, the postings that move a balance, and the journal append."""

from __future__ import annotations

import uuid
from datetime import datetime

from ledger.federation import errors, sequencing
from ledger.federation.journal import Movement
from ledger.federation.model import Link, Quote, TransferRole
from ledger.federation.ports import FedTx
from ledger.federation.terms import InForce
from ledger.kernel import errors as kernel_errors
from ledger.kernel.model import AMOUNT_ABS_MAX, Account, PostingSpec
from ledger.kernel.quantity import show, unit_for, units_of


async def link_of(tx: FedTx, community_id: uuid.UUID, link_id: uuid.UUID) -> Link:
    """The link, its row locked for the unit of work (``link_not_found``)."""
    link = await tx.store.get_link(community_id, link_id, lock=True)
    if link is None:
        raise errors.LinkNotFound(f"link {link_id} does not exist")
    return link


async def member_account(
    tx: FedTx, community_id: uuid.UUID, member_id: uuid.UUID, commodity: str
) -> Account:
    """The member's open account in ``commodity`` (``member_not_found``)."""
    if await tx.repo.get_member(community_id, member_id) is None:
        raise kernel_errors.MemberNotFound(f"member {member_id} does not exist")
    for account in await tx.repo.list_accounts(community_id, member_id=member_id):
        if account.commodity == commodity and not account.closed:
            return account
    raise kernel_errors.AccountNotFound(f"member {member_id} has no open {commodity} account")


def check_amounts(amount: int, min_received: int) -> None:
    for name, value in (("amount", amount), ("min_received", min_received)):
        if type(value) is not int or not 1 <= value <= AMOUNT_ABS_MAX:
            raise kernel_errors.InvalidAmount(f"{name} is an integer from 1 to {AMOUNT_ABS_MAX}")


def quote(terms: InForce, amount: int, min_received: int) -> Quote:
    """The quote of ``amount`` at the terms in force (``amount_converts_to_zero``,
    ``below_minimum_received``)."""
    received = terms.terms.rate.convert(amount)
    if received > AMOUNT_ABS_MAX:
        raise kernel_errors.InvalidAmount(
            f"{amount} converts to more than {AMOUNT_ABS_MAX} {terms.terms.partner_commodity}"
        )
    if received == 0:
        raise errors.AmountConvertsToZero(
            f"{amount} {terms.terms.commodity} converts to 0 {terms.terms.partner_commodity}"
        )
    if received < min_received:
        raise errors.BelowMinimum(
            f"{amount} converts to {received}, less than the least accepted, {min_received}"
        )
    return Quote(
        rate_version=terms.version,
        rate=terms.terms.rate,
        commodity_sent=terms.terms.commodity,
        amount_sent=amount,
        commodity_received=terms.terms.partner_commodity,
        amount_received=received,
        min_received=min_received,
    )


def moves(account: Account, amount: int, *, raise_balance: bool) -> PostingSpec:
    """The posting that raises (or lowers) ``account``'s balance by ``amount``."""
    sign = account.type.normal_sign if raise_balance else -account.type.normal_sign
    return PostingSpec(account.id, sign * amount)


async def locked_clearing(tx: FedTx, community_id: uuid.UUID, terms: InForce) -> Account:
    clearing_id = terms.terms.clearing_account_id
    assert clearing_id is not None, "a side's own terms name its clearing account"
    return (await tx.repo.lock_accounts(community_id, [clearing_id]))[clearing_id]


def metadata(transfer_id: uuid.UUID, link: Link, role: TransferRole) -> dict[str, str]:
    return {
        "transfer_id": str(transfer_id),
        "link_id": str(link.id),
        "role": str(role),
        "partner": link.partner.slug,
    }


async def journal(
    tx: FedTx,
    community_id: uuid.UUID,
    link: Link,
    *,
    transfer_id: uuid.UUID,
    the_quote: Quote,
    now: datetime,
    payer_here: bool,
    seq: int | None = None,
) -> Movement | None:
    """Puts the transfer's movement in this side's journal of the link (its row locked), in
    the order the link's proposer keeps (``ledger.federation.sequencing``): ``seq`` is the
    one the proposer gave, when this side does not keep the order. None while it is held."""
    return await sequencing.record(
        tx,
        community_id,
        link,
        transfer_id=transfer_id,
        from_proposer=payer_here == link.proposed_here,
        sent=(the_quote.commodity_sent, the_quote.amount_sent),
        received=(the_quote.commodity_received, the_quote.amount_received),
        now=now,
        seq=seq,
    )


async def over_limit(
    tx: FedTx, community_id: uuid.UUID, commodity: str, debtor: str, *, owed: int, limit: int
) -> errors.LinkLimitExceeded:
    """``link_limit_exceeded`` in people's words: ``debtor`` ("Riverside would owe Hilltop")
    and the amounts in the commodity's own unit, the raw integers as extension members."""
    unit = unit_for(commodity, units_of(await tx.repo.list_commodities(community_id)))
    return errors.LinkLimitExceeded(
        f"{debtor} {show(owed, unit)}, over the link's limit of {show(limit, unit)}",
        members={"commodity": commodity, "owed": owed, "limit": limit},
    )
