"""Node-to-node messages: JSON Web Signatures (RFC 7515, compact form) over Ed25519 keys with the
fully-specified algorithm ``Ed25519`` (RFC 8037, RFC 9864), made and checked with ``joserfc``.

A message is the whole request (or answer) body, so nothing is read from it before its signature
is checked against a key bound to the link it names: the protected header, covered by the
signature, carries the sender's key id and the link id, which are all the receiver looks at to
pick the key. The payload names the link, the transfer and the step, the sender and recipient
nodes and the time it was signed; a message signed more than :data:`MAX_SKEW` away from the
receiver's clock is refused (a retry is signed anew, so only a captured copy grows old).
docs/federation.md, "Signed messages", says why JWS rather than HTTP Message Signatures.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.registry import HeaderParameter

from ledger.federation.identity import NodeKey, PublicKey
from ledger.kernel import errors

ALGORITHM: Final = "Ed25519"
MEDIA_TYPE: Final = "application/jose"
TYPE: Final = "commons-ledger-peer+jws"
MAX_SKEW: Final = timedelta(minutes=5)
MAX_CHARS: Final = 64_000


class PeerUnauthenticated(errors.LedgerError):
    """The message is unsigned, mis-signed, malformed or signed too long ago (HTTP 401)."""

    code = "peer_unauthenticated"


class PeerForbidden(errors.LedgerError):
    """The message names a link this node does not have with the sender, or is signed with a key
    not bound to that link (HTTP 403)."""

    code = "peer_forbidden"


errors.ERROR_TYPES.update({c.code: c for c in (PeerUnauthenticated, PeerForbidden)})


class PeerMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    link_id: uuid.UUID
    transfer_id: uuid.UUID
    """The cross transfer (or, for a link-wide step, the message's own id)."""
    step: str
    sent_at: datetime
    sender: str
    """The sending node's base URL."""
    recipient: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LinkPeer:
    """What this node knows of the other side of one link: enough to check its messages."""

    link_id: uuid.UUID
    community_id: uuid.UUID
    """This node's community on the link."""
    peer_url: str
    keys: tuple[PublicKey, ...]
    """The partner node's keys bound to the link (its current key, rotated ones in grace)."""


PeerOf = Callable[[uuid.UUID], Awaitable[LinkPeer | None]]
"""The link's peer on this node, or None when this node has no such link."""

_encoder = msgspec.json.Encoder(order="sorted")
# The link id rides in the protected header (a private header parameter, RFC 7515 §4.3): the
# receiver picks the verifying key by it, and the signature covers it.
_REGISTRY: Final = jws.JWSRegistry(
    header_registry={"link": HeaderParameter("The link the message belongs to", "str", True)},
    algorithms=[ALGORITHM],
)
_decoder = msgspec.json.Decoder(PeerMessage)


def body_hash(body: dict[str, Any]) -> str:
    """SHA-256 of the body's canonical JSON (sorted keys): what a repeat must match."""
    return hashlib.sha256(_encoder.encode(body)).hexdigest()


def sign(message: PeerMessage, key: NodeKey) -> str:
    """The compact JWS of ``message`` under this node's ``key``."""
    header = {"alg": ALGORITHM, "typ": TYPE, "kid": key.kid, "link": str(message.link_id)}
    return jws.serialize_compact(
        header, _encoder.encode(message), key.signing_key(), registry=_REGISTRY
    )


async def open_message(token: str, peer_of: PeerOf, now: datetime) -> tuple[PeerMessage, LinkPeer]:
    """The verified message and the link's peer; :class:`PeerUnauthenticated` or
    :class:`PeerForbidden` before anything of the payload is read otherwise."""
    header = _protected_header(token)
    try:
        link_id = uuid.UUID(str(header.get("link", "")))
    except ValueError:
        raise PeerUnauthenticated("the message's protected header names no link") from None
    peer = await peer_of(link_id)
    if peer is None:
        raise PeerForbidden("this node has no link with that id")
    key = next((k for k in peer.keys if k.kid == header.get("kid") and k.valid_at(now)), None)
    if key is None:
        raise PeerForbidden("the message is signed with a key not bound to the link")
    message = verify_with(token, key)
    if message.sender.rstrip("/") != peer.peer_url.rstrip("/"):
        raise PeerForbidden("the sender is not the link's partner node")
    if abs(message.sent_at - now) > MAX_SKEW:
        raise PeerUnauthenticated("the message was signed too long ago (or in the future)")
    return message, peer


def verify_with(token: str, key: PublicKey) -> PeerMessage:
    """The message if ``key`` signed it (``PeerUnauthenticated`` otherwise)."""
    _protected_header(token)
    try:
        verified = jws.deserialize_compact(token, key.key(), registry=_REGISTRY)
    except JoseError:
        raise PeerUnauthenticated("the message's signature does not verify") from None
    try:
        message = _decoder.decode(verified.payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise PeerUnauthenticated(f"the message's payload is malformed: {exc}") from None
    if message.link_id != uuid.UUID(str(verified.protected.get("link"))):
        raise PeerUnauthenticated("the payload names another link than the protected header")
    return message


def _protected_header(token: str) -> dict[str, Any]:
    if not token or len(token) > MAX_CHARS:
        raise PeerUnauthenticated("a peer message must be a signed JWS (application/jose)")
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError):
        raise PeerUnauthenticated("the body is not a compact JWS") from None
    if header.get("alg") != ALGORITHM or header.get("typ") != TYPE:
        raise PeerUnauthenticated(f"a peer message is a {TYPE} signed with {ALGORITHM}")
    return dict(header)
