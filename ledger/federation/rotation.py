"""Rotating this node's signing key without a pause in federation.

``commons-ledger federation rotate-key`` makes a new key pair, which signs from then on, and
keeps the previous one valid for :data:`~ledger.federation.identity.ROTATION_GRACE`. In the same
transaction it puts a ``key`` message in the peer outbox for every link to another node: the new
public key, signed with the *previous* key, which the partner has bound to the link. The partner
binds the new key to the link and keeps the previous one valid until the grace ends. A partner
that is down gets the announcement when it is back (the outbox retries); until then it refuses
the new key's messages (403), which the outbox retries too. A partner down for longer than the
grace refuses the announcement itself: its steward and ours then link again by invitation.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ledger.federation.identity import ROTATION_GRACE, NodeKey, current, new_node_key, public_key_of
from ledger.federation.messages import LinkPeer, PeerMessage
from ledger.federation.peer_store import Outbound, PeerStoreOf
from ledger.federation.peering import Step
from ledger.kernel import errors
from ledger.kernel.clock import Clock
from ledger.kernel.model import new_id
from ledger.kernel.uow import UnitOfWork, UnitOfWorkFactory

KEY_STEP: Final = "key"


class _KeyBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    jwk: dict[str, str]
    previous_kid: str


class KeyRotation:
    def __init__(
        self, units: UnitOfWorkFactory[object], store_of: PeerStoreOf, clock: Clock
    ) -> None:
        self._units = units
        self._store_of = store_of
        self._clock = clock

    async def rotate(self) -> tuple[NodeKey, int]:
        """The new signing key and the number of partner links told of it."""
        now = self._clock()
        async with self._units(write=True) as unit:
            store = self._store_of(unit)
            previous = current(await store.keys())
            key = new_node_key(now)
            await store.retire(previous.kid, now + ROTATION_GRACE)
            await store.insert(key)
            links = await store.remote_links()
            for community_id, link_id, peer_url in links:
                body = _KeyBody(key.public.jwk, previous.kid)
                await store.enqueue(
                    Outbound(
                        community_id=community_id,
                        id=new_id(),
                        link_id=link_id,
                        transfer_id=new_id(),
                        step=KEY_STEP,
                        peer_url=peer_url,
                        body=msgspec.to_builtins(body),
                        created_at=now,
                        expires_at=None,
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
            await unit.commit()
        return key, len(links)

    def step(self) -> Step:
        """The partner's side: binds the announced key to the link (through the inbox)."""
        return Step(self._bind, recorded=True)

    async def answered(self, _: UnitOfWork[Any], __: Outbound, ___: PeerMessage) -> bool:
        """This side: the partner's answer ends the announcement."""
        return True

    async def _bind(
        self, unit: UnitOfWork[Any], message: PeerMessage, peer: LinkPeer
    ) -> dict[str, Any]:
        try:
            body = msgspec.convert(message.body, _KeyBody)
        except msgspec.ValidationError as exc:
            raise errors.InvalidInput(f"malformed key announcement: {exc}") from None
        key = public_key_of(body.jwk)
        now = self._clock()
        await self._store_of(unit).bind_key(peer, key, now, now + ROTATION_GRACE)
        return {"bound": key.kid}


def signing_kid(message: Outbound) -> str | None:
    """A key announcement is signed with the previous key (the one the partner knows)."""
    if message.step != KEY_STEP:
        return None
    kid = message.body.get("previous_kid")
    return kid if isinstance(kid, str) else None
