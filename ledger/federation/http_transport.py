"""Peer messages over HTTP with httpx, to the address the URL guard checked (as webhooks are
sent: ``ledger.events.http_poster.pinned``). Kept apart from the courier so its rules import no
HTTP library; the import contracts allow httpx here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from ledger.events.http_poster import pinned
from ledger.events.url_guard import Target
from ledger.federation.courier import PeerTransport, SendFailed
from ledger.federation.messages import MEDIA_TYPE


class HttpTransport:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(self, target: Target, token: str) -> tuple[int, str]:
        headers = {
            "Content-Type": MEDIA_TYPE,
            "Accept": MEDIA_TYPE,
            "User-Agent": "commons-ledger-federation/1",
        }
        url, extensions = pinned(target, headers)
        try:
            response = await self._client.post(
                url, content=token.encode(), headers=headers, extensions=extensions
            )
        except httpx.HTTPError as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
        return response.status_code, response.text


@asynccontextmanager
async def http_transport(timeout_s: float) -> AsyncIterator[PeerTransport]:
    """One client per delivery pass; its connections are reused within the pass."""
    async with httpx.AsyncClient(
        timeout=timeout_s, follow_redirects=False, trust_env=False
    ) as client:
        yield HttpTransport(client)
