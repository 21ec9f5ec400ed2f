"""Webhook requests over HTTP with httpx: the one HTTP client of the domain.

Kept apart from ``ledger.events.delivery`` so that the delivery rules (leases, retries, what is
recorded) import no HTTP library; the composition root hands :func:`http_poster` to the
``Deliverer``. The import contracts allow httpx in this module only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from ledger.events.delivery import Poster, PostFailed
from ledger.events.url_guard import Target


class HttpPoster:
    """POSTs to the address the URL guard checked, never to a fresh DNS answer."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, target: Target, body: bytes, headers: dict[str, str]) -> int:
        try:
            url, extensions = pinned(target, headers)
            response = await self._client.post(
                url, content=body, headers=headers, extensions=extensions
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # InvalidURL is no HTTPError: a URL the guard let through but httpx refuses is this
            # subscription's failed attempt, not the end of the delivery pass.
            raise PostFailed(f"{type(exc).__name__}: {exc}") from exc
        return response.status_code


@asynccontextmanager
async def http_poster(timeout_s: float) -> AsyncIterator[Poster]:
    """One client per delivery pass: its connections are reused within the pass."""
    async with httpx.AsyncClient(
        timeout=timeout_s, follow_redirects=False, trust_env=False
    ) as client:
        yield HttpPoster(client)


def pinned(target: Target, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The URL with its host replaced by the checked address, the Host header and (for https)
    the TLS server name set to the original host, so certificates are still verified for it."""
    url = httpx.URL(target.url)
    address = str(target.address)
    host = f"[{address}]" if ":" in address else address
    headers["Host"] = url.netloc.decode().rsplit("@", 1)[-1]
    extensions: dict[str, Any] = {}
    if url.scheme == "https":
        extensions["sni_hostname"] = target.host
    return str(url.copy_with(host=host.strip("[]"))), extensions
