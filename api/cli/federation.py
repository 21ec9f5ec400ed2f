"""``commons-ledger federation …``: this node's identity and its key's rotation, links to
communities on other nodes by invitation, the peer outbox sent once, and reconciliation with a
partner node.

Operator tools: whoever runs them holds the database. Running ``invite`` and ``accept-invite``
is the steward's adoption of a link's first terms on that side (docs/federation.md)."""

from __future__ import annotations

import argparse
import base64
import re
import uuid

import msgspec

from api.bootstrap import migrated
from api.cli import Subcommands
from api.cli.console import say
from api.settings import Settings
from ledger.events.url_guard import check
from ledger.federation.courier import PEER_ALLOW_SETTING
from ledger.federation.identity import NodeUrlMissing, key_text
from ledger.federation.invitation import ACCEPT_STEP, invitation
from ledger.federation.messages import PeerMessage, PeerUnauthenticated
from ledger.federation.model import DEFAULT_HOLD_WINDOW_S, CommodityTerms, Rate
from ledger.kernel import errors
from ledger.kernel.clock import utc_now

_TERMS = re.compile(r"^([A-Z0-9_]+):([A-Z0-9_]+):(\d+)/(\d+):(\d+):(\d+)$")


def add_parsers(commands: Subcommands) -> None:
    group = commands.add_parser("federation", help="federation between installs (nodes)")
    sub = group.add_subparsers(dest="federation_command", required=True)
    sub.add_parser("node", help="this node's URL and public key (made on first use)").set_defaults(
        run=_node
    )
    invite = sub.add_parser("invite", help="print an invitation of a community to a link")
    invite.add_argument("slug", help="the inviting community")
    invite.add_argument(
        "--terms",
        action="append",
        required=True,
        metavar="COMMODITY:PARTNER_COMMODITY:N/D:WE_OWE:THEY_OWE",
        help="per commodity: the partner's commodity, the rate (partner units per unit, in "
        "smallest units), how far each side may owe the other; e.g. HOURS:HOURS:1/1:600:600",
    )
    invite.add_argument("--hold-window", type=int, default=DEFAULT_HOLD_WINDOW_S)
    invite.set_defaults(run=_invite)
    accept = sub.add_parser(
        "accept-invite",
        help="accept an invitation (prints the acceptance to send back), or complete the link "
        "with the acceptance that came back",
    )
    accept.add_argument("slug", help="this node's community")
    accept.add_argument("token", help="the invitation or the acceptance, as printed")
    accept.set_defaults(run=_accept)
    sub.add_parser(
        "deliver", help="send the due peer messages once (for a service run with "
        "COMMONS_LEDGER_PEER_POLL_MS=0)"
    ).set_defaults(run=_deliver)  # fmt: skip
    sub.add_parser(
        "rotate-key", help="make a new signing key and announce it to every partner node"
    ).set_defaults(run=_rotate)
    reconcile = sub.add_parser("reconcile", help="compare a link's journal with the partner's")
    reconcile.add_argument("slug")
    reconcile.add_argument("link_id", type=uuid.UUID)
    reconcile.set_defaults(run=_reconcile)
    abandon = sub.add_parser(
        "abandon-peer",
        help="a partner node gone for good: list the transfers waiting for it; with --confirm, "
        "settle them on its stewards' word and close the link here (docs/federation.md)",
    )
    abandon.add_argument("slug")
    abandon.add_argument("link_id", type=uuid.UUID)
    abandon.add_argument(
        "--confirm",
        metavar="TEXT",
        help="what the partner's stewards confirmed (recorded); without it nothing changes",
    )
    abandon.add_argument(
        "--posted-by-partner",
        metavar="TRANSFER_ID",
        type=uuid.UUID,
        action="append",
        default=[],
        help="a transfer the partner's node posted (posted here too); the others are voided",
    )
    abandon.set_defaults(run=_abandon)


def terms_of(texts: list[str]) -> tuple[CommodityTerms, ...]:
    terms = []
    for text in texts:
        found = _TERMS.match(text.strip())
        if found is None:
            raise errors.InvalidInput(
                f"--terms {text!r}: write COMMODITY:PARTNER_COMMODITY:N/D:WE_OWE:THEY_OWE"
            )
        code, partner, n, d, we, they = found.groups()
        terms.append(CommodityTerms(code, partner, Rate(int(n), int(d)), int(we), int(they)))
    return tuple(terms)


async def _node(_: argparse.Namespace, settings: Settings) -> int:
    async with migrated(settings) as services:
        key = await services.node.ensure_key()
        url = services.peer_settings.node_url
    say(f"Node URL:   {url or '(unset: COMMONS_LEDGER_NODE_URL)'}")
    say(f"Key id:     {key.kid}")
    say(f"Public key: {key_text(key.public)} (Ed25519)")
    return 0


async def _invite(arguments: argparse.Namespace, settings: Settings) -> int:
    terms = terms_of(arguments.terms)
    async with migrated(settings) as services:
        url = _node_url(services.peer_settings.node_url)
        community = await services.ledger.get_community_by_slug(arguments.slug)
        key = await services.node.ensure_key()
        token = invitation(
            key,
            url,
            (community.slug, community.name),
            terms,
            arguments.hold_window,
            now=utc_now(),
        )
    say(token)
    return 0


async def _accept(arguments: argparse.Namespace, settings: Settings) -> int:
    token = arguments.token.strip()
    pasted = _unverified(token)
    async with migrated(settings) as services:
        url = _node_url(services.peer_settings.node_url)
        # The partner's URL passes the outgoing-URL guard before anything is written: a peer
        # the courier would refuse to reach is refused here, in the steward's words.
        await check(
            pasted.sender,
            services.peer_settings.peer_allow,
            allow_setting=PEER_ALLOW_SETTING,
        )
        community = await services.ledger.get_community_by_slug(arguments.slug)
        key = await services.node.ensure_key()
        if pasted.step == ACCEPT_STEP:
            keys = await services.node.keys()
            link = await services.invitations.complete(community.id, token, keys, url)
            say(f"Link {link.id} with {link.partner.slug} at {link.partner.node_url} is active.")
            return 0
        link, acceptance = await services.invitations.accept_invitation(
            community.id, token, key, url
        )
    say(f"Link {link.id} with {link.partner.slug} at {link.partner.node_url} is active here.")
    say("Send this acceptance to the inviting steward, who runs accept-invite with it:")
    say(acceptance)
    return 0


async def _rotate(_: argparse.Namespace, settings: Settings) -> int:
    async with migrated(settings) as services:
        key, links = await services.key_rotation.rotate()
    say(f"New key {key.kid}; announced on {links} link(s) to other nodes (peer outbox).")
    say("The previous key verifies for 7 more days.")
    return 0


async def _deliver(_: argparse.Namespace, settings: Settings) -> int:
    async with migrated(settings) as services:
        attempts = await services.courier.deliver_due()
    say(f"{attempts} peer message attempts.")
    return 0


async def _reconcile(arguments: argparse.Namespace, settings: Settings) -> int:
    async with migrated(settings) as services:
        community = await services.ledger.get_community_by_slug(arguments.slug)
        result = await services.peer_reconciliation.reconcile(community.id, arguments.link_id)
    journal, checkpoint = result.journal, result.checkpoint
    agrees = result.agrees and result.books_agree
    if agrees:
        say(f"agrees up to {journal.agrees_up_to}")
    elif journal.first_difference is not None:
        say(f"differs at {journal.first_difference}: {journal.reason}")
    if checkpoint is not None:
        mirror = "is" if checkpoint.mirror else "is NOT"
        say(f"checkpoint at {checkpoint.seq}: each side's balance {mirror} minus the other's")
        if checkpoint.problem is not None:
            say(f"checkpoint at {checkpoint.seq}: {checkpoint.problem}")
    if result.held:
        say(f"{result.held} movement(s) posted here wait for their place in the journal order")
    if not result.books_agree:
        say("this side's clearing accounts differ from its journal")
    return 0 if agrees else 1


async def _abandon(arguments: argparse.Namespace, settings: Settings) -> int:
    posted = frozenset(arguments.posted_by_partner)
    async with migrated(settings) as services:
        community = await services.ledger.get_community_by_slug(arguments.slug)
        abandonment = services.peer_abandonment
        if arguments.confirm is None:
            done = await abandonment.plan(community.id, arguments.link_id)
        else:
            done = await abandonment.abandon(
                community.id,
                arguments.link_id,
                confirmation=arguments.confirm,
                posted_by_partner=posted,
            )
        now = utc_now()
    say(f"Link {done.link_id} with {done.partner}: {len(done.in_flight)} transfer(s) in flight.")
    for transfer in done.in_flight:
        assert transfer.quote is not None
        amount = f"{transfer.quote.amount_sent} {transfer.quote.commodity_sent}"
        if done.confirmation is not None:
            outcome = {"committed": "posted", "rejected": "voided"}[str(transfer.state)]
        elif transfer.expires_at > now:
            outcome = "held: the partner may still decide it until it expires"
        else:
            outcome = "would be posted" if transfer.id in posted else "would be voided"
        say(f"  {transfer.id}  {amount}, expires {transfer.expires_at.isoformat()}: {outcome}")
    if done.confirmation is None:
        say(
            "Nothing changed. Once the partner's stewards confirm which of these their node "
            'posted, run again with --confirm "what they confirmed" and --posted-by-partner '
            "for each one posted: the others are voided and the link closed here."
        )
        return 0
    say(f"Link closed here; {done.messages_ended} unanswered peer message(s) ended.")
    return 0


def _node_url(url: str | None) -> str:
    if url is None:
        raise NodeUrlMissing("set COMMONS_LEDGER_NODE_URL to this node's public base URL first")
    return url


def _unverified(token: str) -> PeerMessage:
    """A pasted message, read unverified: only to pick the command's branch and to refuse a
    partner URL early (accepting it verifies the signature)."""
    try:
        payload = token.split(".")[1]
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return msgspec.json.decode(decoded, type=PeerMessage)
    except (IndexError, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise PeerUnauthenticated("that is neither an invitation nor an acceptance") from None
