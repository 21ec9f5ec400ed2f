"""The endpoints partner nodes call, outside ``/api/v1`` and its bearer tokens: authenticated
only by the signature of each message (``ledger.federation.messages``).

``GET /federation/v1/node`` publishes this node's URL and verifying keys (what an invitation
carries too); ``POST /federation/v1/peer/messages`` takes one signed message (a compact JWS,
``application/jose``) and answers the signed answer, or problem+json: 401 unsigned or
mis-signed, 403 from a key not bound to the link or for a link the sender is not party to, 409 a
replay with a changed body."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.status_codes import HTTP_200_OK

from api.http.common.errors import problem_response
from api.http.common.openapi import problems
from api.state import Services
from ledger.federation.messages import MEDIA_TYPE, PeerUnauthenticated

PEER_PREFIX = "/federation/v1"
CHALLENGE = 'JWS realm="commons-ledger-federation", alg="Ed25519"'
_KID = "oIV_5L_UYwH-DGAw4T2oXm7kS1bG-ApegRSCfKUHh5E"
_JWS = "eyJhbGciOiJFZDI1NTE5IiwidHlwIjoiY29tbW9ucy1sZWRnZXItcGVlcitqd3MiLCJraWQiOiIuLi4ifQ.e30.c2ln"


class NodeKeyView(msgspec.Struct, frozen=True):
    kid: str
    """RFC 7638 thumbprint of the key."""
    jwk: dict[str, str]
    """The public Ed25519 key as a JWK (RFC 8037)."""
    retires_at: str | None = None
    """None for the signing key; for a rotated-out key the end of its grace period."""


class NodeDocument(msgspec.Struct, frozen=True):
    url: str | None
    algorithm: str
    keys: list[NodeKeyView]


@get(
    f"{PEER_PREFIX}/node",
    summary="This node's identity: base URL and verifying keys",
    exclude_from_auth=True,
    tags=["peers"],
    responses={
        200: ResponseSpec(
            NodeDocument,
            description="The node's public base URL and the keys that verify its messages",
            generate_examples=False,
            examples=[
                Example(
                    summary="node",
                    value={
                        "url": "http://localhost:8001",
                        "algorithm": "Ed25519",
                        "keys": [
                            {
                                "kid": _KID,
                                "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "clNCvIs…"},
                                "retires_at": None,
                            }
                        ],
                    },
                )
            ],
        )
    },
)
async def read_node(request: Request[Any, Any, Any]) -> NodeDocument:
    services = Services.of(request)
    document = await services.node.document(services.peer_settings.node_url)
    return msgspec.convert(document, NodeDocument)


@post(
    f"{PEER_PREFIX}/peer/messages",
    summary="One signed message from a partner node (a compact JWS, application/jose)",
    description="Authenticated by the message's signature alone, never by a bearer token; the "
    "answer is signed by this node. docs/federation.md describes the steps.",
    exclude_from_auth=True,
    tags=["peers"],
    status_code=HTTP_200_OK,
    responses={
        200: ResponseSpec(
            str,
            description="The signed answer (a compact JWS)",
            media_type=MEDIA_TYPE,
            generate_examples=False,
            examples=[Example(summary="answer", value=_JWS)],
        ),
        **problems(
            401,
            codes=[
                "peer_unauthenticated",
                "peer_forbidden",
                "peer_replay_conflict",
                "peer_unknown_step",
                "idempotency_in_flight",
                "node_key_missing",
                "node_url_missing",
            ],
        ),
    },
)
async def receive_peer_message(request: Request[Any, Any, Any]) -> Response[Any]:
    try:
        token = await _token(request)
        answer = await Services.of(request).peer_receiver.receive(token)
    except PeerUnauthenticated as refused:
        # RFC 9110: a 401 names how to authenticate — here a JWS signed by a linked node.
        return problem_response(
            401, refused.code, refused.detail, headers={"WWW-Authenticate": CHALLENGE}
        )
    return Response(answer.encode(), media_type=MEDIA_TYPE, status_code=HTTP_200_OK)


async def _token(request: Request[Any, Any, Any]) -> str:
    if request.headers.get("content-type", "").split(";")[0].strip() != MEDIA_TYPE:
        raise PeerUnauthenticated(f"a peer message is a signed JWS sent as {MEDIA_TYPE}")
    body = await request.body()
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise PeerUnauthenticated("a compact JWS is ASCII") from None


PEER_HANDLERS = [read_node, receive_peer_message]
