"""Linking two communities on two installs: an invitation and its acceptance, each a message
signed by its node's key (``ledger.federation.messages``) that the stewards carry between them.

1. Community A's steward runs ``commons-ledger federation invite``: A's node prints an
   invitation — its URL, its public key, A's slug and name, a new link id and the proposed terms
   (A's view) — signed with its key. Nothing is written.
2. Community B's steward runs ``commons-ledger federation accept-invite INVITATION``: B's node
   checks the invitation's signature under the key it carries, opens B's side of the link
   (mirrored terms, a clearing account per commodity), active, and prints an acceptance —
   B's URL, key, slug and name with the invitation inside — signed with B's key.
3. A's steward runs ``commons-ledger federation accept-invite ACCEPTANCE``: A's node checks
   that the invitation inside is its own (signed by one of its keys, for that community, not
   older than :data:`VALID_FOR`) and opens A's side, active.

Each node thus learns the other's key from its own steward's paste, never from the network: the
paste is the trust. Running the command is the steward's adoption of version 1 on that side;
later versions are proposed and adopted through each community's governance and told to the
partner by message (``ledger.federation.link_peer``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
from joserfc import jws
from joserfc.errors import JoseError

from ledger.books.envelope import Done
from ledger.federation import sides
from ledger.federation.identity import NodeKey, key_text, public_key_of
from ledger.federation.messages import PeerMessage, PeerUnauthenticated, sign, verify_with
from ledger.federation.model import (
    DEFAULT_HOLD_WINDOW_S,
    CommodityTerms,
    Link,
    LinkStatus,
    Partner,
    Rate,
    TermsVersion,
)
from ledger.federation.ports import FederationTransactions, FedTx
from ledger.federation.terms import check_terms, mirrored
from ledger.kernel import errors
from ledger.kernel.model import new_id

INVITE_STEP: Final = "invite"
ACCEPT_STEP: Final = "accept"
VALID_FOR: Final = timedelta(days=7)


class _Terms(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    commodity: str
    partner_commodity: str
    rate_numerator: int
    rate_denominator: int
    limit_we_owe: int
    limit_they_owe: int


class _Invite(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    community: str
    name: str
    jwk: dict[str, str]
    terms: list[_Terms]
    hold_window_s: int


class _Accept(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    community: str
    name: str
    jwk: dict[str, str]
    invitation: str


def invitation(
    key: NodeKey,
    node_url: str,
    community: tuple[str, str],
    terms: Sequence[CommodityTerms],
    hold_window_s: int = DEFAULT_HOLD_WINDOW_S,
    *,
    now: datetime,
) -> str:
    """The signed invitation of ``community`` (slug, name) to a link with ``terms`` (its view)."""
    check_terms(tuple(terms), hold_window_s)
    link_id = new_id()
    body = _Invite(
        community=community[0],
        name=community[1],
        jwk=key.public.jwk,
        terms=[
            _Terms(
                t.commodity,
                t.partner_commodity,
                t.rate.numerator,
                t.rate.denominator,
                t.limit_we_owe,
                t.limit_they_owe,
            )
            for t in terms
        ],
        hold_window_s=hold_window_s,
    )
    message = PeerMessage(
        link_id, link_id, INVITE_STEP, now, node_url, "", msgspec.to_builtins(body)
    )
    return sign(message, key)


def self_signed(token: str, step: str, now: datetime) -> PeerMessage:
    """A message signed by the key it carries (``body.jwk``), of ``step``, at most
    :data:`VALID_FOR` old: its integrity; who sent it is what the steward vouches for."""
    try:
        payload = msgspec.json.decode(jws.extract_compact(token.strip().encode()).payload)
        key = public_key_of(payload["body"]["jwk"])
    except (JoseError, ValueError, KeyError, TypeError, msgspec.DecodeError):
        raise PeerUnauthenticated(f"not a signed {step} message") from None
    message = verify_with(token.strip(), key)
    if message.step != step:
        raise errors.InvalidInput(f"this is an {message.step} message, not an {step}")
    if not now - VALID_FOR <= message.sent_at <= now + timedelta(minutes=5):
        raise PeerUnauthenticated(f"the {step} was signed more than {VALID_FOR.days} days ago")
    return message


def _terms(body: _Invite) -> tuple[CommodityTerms, ...]:
    return tuple(
        CommodityTerms(
            t.commodity,
            t.partner_commodity,
            Rate(t.rate_numerator, t.rate_denominator),
            t.limit_we_owe,
            t.limit_they_owe,
        )
        for t in body.terms
    )


def _decode(message: PeerMessage, kind: type[Any]) -> Any:
    try:
        return msgspec.convert(message.body, kind)
    except msgspec.ValidationError as exc:
        raise errors.InvalidInput(f"malformed {message.step}: {exc}") from None


class Invitations:
    def __init__(self, transactions: FederationTransactions) -> None:
        self._transactions = transactions

    async def accept_invitation(
        self, community_id: uuid.UUID, token: str, key: NodeKey, node_url: str
    ) -> tuple[Link, str]:
        """Opens this (invited) side of the link, active; answers it and the acceptance to
        send back."""
        now = self._transactions.clock()
        invited = self_signed(token, INVITE_STEP, now)
        body: _Invite = _decode(invited, _Invite)
        first = TermsVersion(1, _terms(body), body.hold_window_s, True, now, now, now)
        check_terms(first.commodities, first.hold_window_s)
        partner = Partner(
            body.community,
            body.name,
            node_url=invited.sender,
            node_key=key_text(public_key_of(body.jwk)),
        )
        async with self._transactions.read() as tx:
            here = await tx.repo.get_community(community_id)
        if here is None:
            raise errors.CommunityNotFound(f"community {community_id} does not exist")
        link = await self._open(community_id, invited.link_id, partner, mirrored(first), now)
        reply = _Accept(here.slug, here.name, key.public.jwk, token.strip())
        message = PeerMessage(
            link.id, link.id, ACCEPT_STEP, now, node_url, invited.sender, msgspec.to_builtins(reply)
        )
        return link, sign(message, key)

    async def complete(
        self, community_id: uuid.UUID, token: str, own_keys: Sequence[NodeKey], node_url: str
    ) -> Link:
        """Opens the inviting side once the invited side's acceptance comes back."""
        now = self._transactions.clock()
        accepted = self_signed(token, ACCEPT_STEP, now)
        body: _Accept = _decode(accepted, _Accept)
        invited = _own_invitation(body.invitation, own_keys, now)
        offer: _Invite = _decode(invited, _Invite)
        async with self._transactions.read() as tx:
            here = await tx.repo.get_community(community_id)
        if here is None or offer.community != here.slug or invited.sender != node_url:
            raise errors.InvalidInput("the acceptance answers an invitation of another community")
        if accepted.link_id != invited.link_id:
            raise errors.InvalidInput("the acceptance names another link than its invitation")
        first = TermsVersion(1, _terms(offer), offer.hold_window_s, True, now, now, now)
        partner = Partner(
            body.community,
            body.name,
            node_url=accepted.sender,
            node_key=key_text(public_key_of(body.jwk)),
        )
        return await self._open(community_id, invited.link_id, partner, first, now)

    async def _open(
        self,
        community_id: uuid.UUID,
        link_id: uuid.UUID,
        partner: Partner,
        first: TermsVersion,
        now: datetime,
    ) -> Link:
        async def work(tx: FedTx) -> Done[Link]:
            known = await tx.store.get_link(community_id, link_id)
            if known is not None:
                return Done(known, None)  # the same paste twice
            link = await sides.open_side(
                tx, community_id, link_id=link_id, partner=partner, first=first, now=now
            )
            await tx.store.set_link_status(
                community_id, link_id, LinkStatus.ACTIVE, suspended_here=False, at=now
            )
            return Done(replace(link, status=LinkStatus.ACTIVE), "link_between_nodes")

        request = [str(link_id), partner.slug, partner.node_url]
        return await self._transactions.write(
            community_id, "link_between_nodes", request, None, work=work, result_type=Link
        )


def _own_invitation(token: str, own_keys: Sequence[NodeKey], now: datetime) -> PeerMessage:
    for own in own_keys:
        try:
            message = verify_with(token, own.public)
        except PeerUnauthenticated:
            continue
        if message.step == INVITE_STEP and now - VALID_FOR <= message.sent_at <= now:
            return message
    raise PeerUnauthenticated("the acceptance carries no invitation of this node, or an old one")
