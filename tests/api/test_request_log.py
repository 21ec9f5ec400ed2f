"""The request log's status for a request that never got an answer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from litestar import Litestar, get

from api.http.common.request_log import RequestLogMiddleware, before_send, stamp_request_id

pytestmark = pytest.mark.asyncio


def _app(started: asyncio.Event) -> Litestar:
    @get("/slow")
    async def slow() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    @get("/broken")
    async def broken() -> str:
        raise RuntimeError("a bug")

    hook = before_send(stamp_request_id)
    return Litestar([slow, broken], middleware=[RequestLogMiddleware], before_send=[hook])


def _lines(err: str, path: str) -> list[dict[str, object]]:
    found = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in found if line.get("path") == path]


async def _call(app: Litestar, path: str, sent: list[dict[str, Any]]) -> None:
    """One request to ``app`` as a server calls it, ``sent`` collecting what it answers."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [], "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }  # fmt: skip
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never goes anywhere on its own
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]


async def test_a_request_cancelled_before_its_answer_is_logged_499_not_500(
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = asyncio.Event()
    app = _app(started)
    capsys.readouterr()
    sent: list[dict[str, Any]] = []
    request = asyncio.create_task(_call(app, "/slow", sent))
    await started.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert sent == []
    (line,) = _lines(capsys.readouterr().err, "/slow")
    assert line["status"] == 499

    # A handler that fails is still a 500, in the answer and in the log.
    await _call(app, "/broken", sent)
    assert sent[0]["status"] == 500
    (line,) = _lines(capsys.readouterr().err, "/broken")
    assert line["status"] == 500
