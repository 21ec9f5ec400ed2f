"""The endpoints partner nodes call, outside ``/api/v1`` and its bearer tokens: authenticated
only by the signature of each message (``ledger.federation.messages``).

``GET /federation/v1/node`` publishes this node's URL and verifying keys (what an invitation
carries too); ``POST /federation/v1/peer/messages`` takes one signed message (a compact JWS,
``application/jose``) and answers the signed answer, or problem+json: 401 unsigned or
mis-signed, 403 from a key not bound to the link or for a link the sender is not party to, 409 a
replay with a changed body."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.status_codes import HTTP_200_OK

from api.state import Services
from ledger.federation.messages import MEDIA_TYPE, PeerUnauthenticated

PEER_PREFIX = "/federation/v1"


@get(
    f"{PEER_PREFIX}/node",
    summary="This node's identity: base URL and verifying keys",
    exclude_from_auth=True,
    include_in_schema=False,
)
async def node(request: Request[Any, Any, Any]) -> dict[str, Any]:
    services = Services.of(request)
    return await services.node.document(services.federation.node_url)


@post(
    f"{PEER_PREFIX}/peer/messages",
    summary="One signed message from a partner node",
    exclude_from_auth=True,
    include_in_schema=False,
    status_code=HTTP_200_OK,
)
async def peer_message(request: Request[Any, Any, Any]) -> Response[bytes]:
    if request.headers.get("content-type", "").split(";")[0].strip() != MEDIA_TYPE:
        raise PeerUnauthenticated(f"a peer message is a signed JWS sent as {MEDIA_TYPE}")
    body = await request.body()
    try:
        token = body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise PeerUnauthenticated("a compact JWS is ASCII") from None
    answer = await Services.of(request).peer_receiver.receive(token)
    return Response(answer.encode(), media_type=MEDIA_TYPE, status_code=HTTP_200_OK)


PEER_HANDLERS = [node, peer_message]
