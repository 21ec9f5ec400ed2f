"""A node's identity: its long-term Ed25519 signing keys and its public base URL.

Each install (node) signs every message it sends another node with its current key. The key
pair is made on first start (``commons-ledger serve`` and every command that migrates) or by
``commons-ledger federation init-key``, and kept in the node's own database (table
``federation_node_keys``): the identity then travels with the books it speaks for — a restored
backup is the same node, a lost database takes its key with it — and whoever can read that
database can already rewrite the books the key vouches for. docs/federation.md, "Node keys",
says how to rotate.

A key's id (``kid``) is its RFC 7638 JWK thumbprint, so a key names itself and a peer can check
that a key and its id belong together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from joserfc.jwk import OKPKey

from ledger.kernel import errors

CURVE: Final = "Ed25519"
ROTATION_GRACE: Final = timedelta(days=7)
"""How long a rotated-out key still verifies (messages signed just before the rotation, retries
in peers' outboxes) after its successor was announced."""


class NodeKeyMissing(errors.LedgerError):
    """The node has no signing key yet (``commons-ledger federation init-key`` makes one)."""

    code = "node_key_missing"


class NodeUrlMissing(errors.LedgerError):
    """This install has no public base URL (``COMMONS_LEDGER_NODE_URL``): no other node can
    reach it."""

    code = "node_url_missing"


errors.ERROR_TYPES.update({c.code: c for c in (NodeKeyMissing, NodeUrlMissing)})


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A key as peers see it: its id, its public JWK and until when it verifies."""

    kid: str
    jwk: dict[str, str]
    retires_at: datetime | None = None
    """None: the node's current key. Otherwise the end of the rotation grace period."""

    def valid_at(self, now: datetime) -> bool:
        return self.retires_at is None or now < self.retires_at

    def key(self) -> OKPKey:
        """The verifying key; ``InvalidInput`` if the JWK is not an Ed25519 public key or does
        not match its id."""
        try:
            key = OKPKey.import_key(dict(self.jwk))
        except (ValueError, TypeError, KeyError) as exc:
            raise errors.InvalidInput(f"not an Ed25519 public key: {exc}") from None
        if key.as_dict(private=False).get("crv") != CURVE or key.is_private:
            raise errors.InvalidInput("a peer key must be a public Ed25519 key")
        if key.thumbprint() != self.kid:
            raise errors.InvalidInput("the key id is not the key's RFC 7638 thumbprint")
        return key


@dataclass(frozen=True, slots=True)
class NodeKey:
    """One of this node's own key pairs."""

    public: PublicKey
    private_pem: str
    created_at: datetime

    @property
    def kid(self) -> str:
        return self.public.kid

    def signing_key(self) -> OKPKey:
        return OKPKey.import_key(self.private_pem)


def new_node_key(now: datetime) -> NodeKey:
    key = OKPKey.generate_key(CURVE)
    jwk = {name: str(value) for name, value in key.as_dict(private=False).items()}
    public = PublicKey(kid=key.thumbprint(), jwk=jwk)
    return NodeKey(public, key.as_pem(private=True).decode(), now)


def public_key_of(jwk: dict[str, str]) -> PublicKey:
    """A peer's key from its public JWK alone (the id is computed, never trusted)."""
    try:
        kid = OKPKey.import_key(dict(jwk)).thumbprint()
    except (ValueError, TypeError, KeyError) as exc:
        raise errors.InvalidInput(f"not an Ed25519 public key: {exc}") from None
    public = PublicKey(kid=kid, jwk=dict(jwk))
    public.key()
    return public


def key_text(key: PublicKey) -> str:
    """How a link records the partner node's key: the JWK's ``x`` (base64url of the 32-byte
    Ed25519 public key), short enough to paste and to store with the link."""
    return key.jwk["x"]


def key_from_text(text: str) -> PublicKey:
    """The inverse of :func:`key_text` (``InvalidInput`` if it is no Ed25519 public key)."""
    return public_key_of({"kty": "OKP", "crv": CURVE, "x": text.strip()})


class NodeKeyStore(Protocol):
    async def keys(self) -> list[NodeKey]:
        """Every key of this node, newest first."""
        ...

    async def insert(self, key: NodeKey) -> None: ...
    async def retire(self, kid: str, at: datetime) -> None: ...


def current(keys: list[NodeKey]) -> NodeKey:
    """The signing key: the newest not retired."""
    for key in keys:
        if key.public.retires_at is None:
            return key
    raise NodeKeyMissing("this node has no signing key; run commons-ledger federation node")


def published(keys: list[NodeKey], now: datetime) -> list[PublicKey]:
    """What the node publishes: the current key and those still in their grace period."""
    return [key.public for key in keys if key.public.valid_at(now)]
