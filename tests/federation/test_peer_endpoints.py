"""The peer endpoints over HTTP: outside the bearer tokens and the page's CSRF check,
authenticated by signature alone, refusing in problem+json."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.federation_settings import FederationSettings
from api.settings import Settings
from ledger.federation.identity import new_node_key
from ledger.federation.messages import MEDIA_TYPE, PeerMessage, sign
from ledger.federation.peering import NodeIdentity
from ledger.kernel.clock import utc_now
from ledger.store import SqlUnitOfWorkFactory, create_engine
from ledger.store.federation_peer import SqlPeerStore
from tests.api.conftest import ADMIN_TOKEN

NODE_URL = "http://127.0.0.1:7101"
MESSAGES = "/federation/v1/peer/messages"


@pytest.fixture
async def peer_client(database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    engine = create_engine(database_url)
    try:  # as at first start (``commons-ledger serve`` migrates, then makes the key)
        await NodeIdentity(SqlUnitOfWorkFactory(engine), SqlPeerStore.of, utc_now).ensure_key()
    finally:
        await engine.dispose()
    app = create_app(
        Settings(database_url=database_url, admin_token=ADMIN_TOKEN),
        peer_settings=FederationSettings(node_url=NODE_URL),
    )
    async with AsyncTestClient(app) as client:
        yield client


def _signed(link_id: uuid.UUID) -> str:
    stranger = new_node_key(datetime.now(UTC))
    message = PeerMessage(
        link_id, uuid.uuid4(), "prepare", datetime.now(UTC), "http://elsewhere", NODE_URL, {}
    )
    return sign(message, stranger)


async def test_the_node_publishes_its_url_and_key(peer_client: AsyncTestClient[Litestar]) -> None:
    found = await peer_client.get("/federation/v1/node")
    assert found.status_code == 200
    document = found.json()
    assert document["url"] == NODE_URL and document["algorithm"] == "Ed25519"
    assert document["keys"] and all(key["jwk"]["crv"] == "Ed25519" for key in document["keys"])
    assert all("d" not in key["jwk"] for key in document["keys"])  # never the private part


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"", MEDIA_TYPE), (b'{"step": "prepare"}', "application/json"), (b"a.b.c", MEDIA_TYPE)],
)
async def test_an_unsigned_or_malformed_message_is_refused_with_401(
    peer_client: AsyncTestClient[Litestar], body: bytes, content_type: str
) -> None:
    refused = await peer_client.post(MESSAGES, content=body, headers={"Content-Type": content_type})
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "peer_unauthenticated"
    assert refused.headers["WWW-Authenticate"].startswith("JWS ")


async def test_a_message_for_a_link_this_node_lacks_is_refused_with_403(
    peer_client: AsyncTestClient[Litestar],
) -> None:
    refused = await peer_client.post(
        MESSAGES, content=_signed(uuid.uuid4()).encode(), headers={"Content-Type": MEDIA_TYPE}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "peer_forbidden"


async def test_a_bearer_token_opens_nothing_on_the_peer_endpoint(
    peer_client: AsyncTestClient[Litestar],
) -> None:
    refused = await peer_client.post(
        MESSAGES,
        content=b"{}",
        headers={"Content-Type": MEDIA_TYPE, "Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert refused.status_code == 401
